import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { PublicConfig } from '@mp/contracts';
import type { PublicUrls } from '../public-urls';

const dir = new URL('../../public/', import.meta.url);
const require = createRequire(import.meta.url);
const JS = 'text/javascript; charset=utf-8';

interface PageFile {
  type: string;
  body: Buffer;
  gzipped: Buffer;
  /** Versioned by its package: cached for a day. The page's own files are revalidated every time. */
  immutable: boolean;
}

const file = (type: string, body: Buffer, immutable = false): PageFile => ({
  type,
  body,
  gzipped: gzipSync(body, { level: 9 }),
  immutable,
});
const own = (name: string, type: string) => file(type, readFileSync(new URL(name, dir)));

/**
 * The page, with no build step: its HTML, CSS and ES modules from public/, and two libraries from their
 * packages, loaded only when needed: hls.js (light build) when a video is opened, tus-js-client for an upload.
 */
const files: Record<string, PageFile> = {
  '/': own('index.html', 'text/html; charset=utf-8'),
  '/app.js': own('app.js', JS),
  '/player.js': own('player.js', JS),
  '/app.css': own('app.css', 'text/css; charset=utf-8'),
  '/icons.svg': own('icons.svg', 'image/svg+xml; charset=utf-8'),
  '/vendor/hls.mjs': file(JS, readFileSync(require.resolve('hls.js/dist/hls.light.min.mjs')), true),
  '/vendor/tus.min.js': file(JS, readFileSync(require.resolve('tus-js-client/dist/tus.min.js')), true),
};

/** The web page (public API only) and what it needs to know: where the gateway and the notifier are. */
export function registerPage(app: FastifyInstance, urls: PublicUrls): void {
  for (const [path, f] of Object.entries(files)) {
    app.get(path, { schema: { hide: true } }, async (req, reply) => {
      reply
        .type(f.type)
        .header('cache-control', f.immutable ? 'public, max-age=86400' : 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('vary', 'accept-encoding');
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
        return reply.header('content-encoding', 'gzip').send(f.gzipped);
      return reply.send(f.body);
    });
  }
  app.get('/config.json', { schema: { hide: true } }, async (req, reply): Promise<PublicConfig> => {
    // Answered for the host the page was loaded from, so it is never cached for another.
    reply.header('cache-control', 'no-store').header('vary', 'host');
    return { gatewayUrl: urls.gateway(req), notifierUrl: urls.notifier(req) };
  });
}
