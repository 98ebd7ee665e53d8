import type { FastifyInstance } from 'fastify';

// Browser origins for the REST routes and the websocket. The web page is served by the gateway, on another
// port, so its requests here are cross-origin. An allowed origin whose host is loopback (as the development
// defaults are) also allows the same scheme and port on any host: the same page, opened from a phone on the
// network at http://192.168.1.20:3000. An empty list allows every origin (the API token, a bearer header and
// never a cookie, is what authenticates).

const LOOPBACK = /^(?:localhost|[\w-]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export function originAllowed(origin: string, allowed: string[]): boolean {
  if (allowed.length === 0) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  return allowed.some((entry) => {
    if (entry === origin) return true;
    try {
      const a = new URL(entry);
      if (a.origin === o.origin) return true;
      return LOOPBACK.test(a.hostname) && a.protocol === o.protocol && a.port === o.port;
    } catch {
      return false;
    }
  });
}

/** CORS on the REST routes under /v1: the allowed origin is echoed, and a preflight answered here. */
export function registerCors(app: FastifyInstance, allowed: string[]): void {
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !req.url.startsWith('/v1/') || !originAllowed(origin, allowed)) return;
    reply.header('access-control-allow-origin', origin).header('vary', 'origin');
    if (req.method === 'OPTIONS') {
      await reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '600')
        .send();
    }
  });
}
