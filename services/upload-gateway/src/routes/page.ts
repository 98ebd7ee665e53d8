import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const dir = new URL('../../public/', import.meta.url);
const files: Record<string, { type: string; body: Buffer }> = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(new URL('index.html', dir)) },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('app.js', dir)) },
  '/app.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('app.css', dir)) },
};

/** The web page (public API only) and the one setting it needs: where the notifier is. */
export function registerPage(app: FastifyInstance, notifierUrl: string): void {
  for (const [path, f] of Object.entries(files)) {
    app.get(path, { schema: { hide: true } }, async (_req, reply) =>
      reply.type(f.type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(f.body),
    );
  }
  app.get('/config.json', { schema: { hide: true } }, async () => ({ notifierUrl }));
}
