import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { PublicConfig } from '@mp/contracts';
import type { PublicUrls } from '../public-urls';

const dir = new URL('../../public/', import.meta.url);
const files: Record<string, { type: string; body: Buffer }> = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(new URL('index.html', dir)) },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('app.js', dir)) },
  '/app.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('app.css', dir)) },
};

/** The web page (public API only) and what it needs to know: where the gateway and the notifier are. */
export function registerPage(app: FastifyInstance, urls: PublicUrls): void {
  for (const [path, f] of Object.entries(files)) {
    app.get(path, { schema: { hide: true } }, async (_req, reply) =>
      reply.type(f.type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(f.body),
    );
  }
  app.get('/config.json', { schema: { hide: true } }, async (req, reply): Promise<PublicConfig> => {
    // Answered for the host the page was loaded from, so it is never cached for another.
    reply.header('cache-control', 'no-store').header('vary', 'host');
    return { gatewayUrl: urls.gateway(req), notifierUrl: urls.notifier(req) };
  });
}
