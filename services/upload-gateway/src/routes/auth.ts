import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '@mp/contracts';
import type { Db, User } from '@mp/db';
import { authenticate, bearerToken } from '@mp/auth';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
}

/**
 * Every /v1 route needs a valid bearer token; 401 otherwise. A stream's playlists (/v1/stream/) are loaded by
 * players that send none: their signed playback token is checked by the route, and a bearer header, when sent
 * anyway, must still be valid.
 */
export function registerAuth(app: FastifyInstance, db: Db): void {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/v1/') || req.url.startsWith('/v1/users')) return;
    if (req.url.startsWith('/v1/stream/') && !req.headers.authorization) return;
    const user = await authenticate(db, bearerToken(req.headers.authorization));
    if (!user) throw new AppError(401, 'UNAUTHENTICATED', 'A valid bearer token is required.');
    req.user = user;
  });
}

export function currentUser(req: FastifyRequest): User {
  if (!req.user) throw new AppError(401, 'UNAUTHENTICATED', 'A valid bearer token is required.');
  return req.user;
}
