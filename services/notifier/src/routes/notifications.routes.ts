import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from '@mp/config';
import { AppError } from '@mp/contracts';
import { authenticate, bearerToken } from '@mp/auth';
import type { Db, User } from '@mp/db';
import { notFound, parseNotificationId, type NotificationsService } from '../notifications.service';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
}

const ListQuery = z.object({
  unread: z.enum(['true', 'false']).default('false'),
  // `?cursor=` (empty) asks for the first page.
  cursor: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[1-9][0-9]{0,15}$/, 'a cursor from a previous page')
      .optional(),
  ),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** `/v1/notifications`: the signed-in user's notifications, authenticated with the API token as a Bearer header. */
export function notificationsRoutes(deps: { db: Db; notifications: NotificationsService }) {
  return async (app: FastifyInstance) => {
    app.decorateRequest('user', null);
    app.addHook('onRequest', async (req) => {
      req.user = await authenticate(deps.db, bearerToken(req.headers.authorization));
      if (!req.user)
        throw new AppError(401, 'UNAUTHORIZED', 'A valid API token is required (Authorization: Bearer <token>).');
    });

    app.get('/notifications', async (req) => {
      const q = parse(ListQuery, req.query);
      return deps.notifications.list(userOf(req), {
        unreadOnly: q.unread === 'true',
        cursor: q.cursor ? Number(q.cursor) : null,
        limit: q.limit,
      });
    });

    app.post('/notifications/read-all', async (req) => deps.notifications.markAllRead(userOf(req)));

    app.post<{ Params: { id: string } }>('/notifications/:id/read', async (req) => {
      const id = parseNotificationId(req.params.id);
      if (id === null) throw notFound();
      return { notification: await deps.notifications.markRead(userOf(req), id) };
    });
  };
}

function userOf(req: FastifyRequest): string {
  return req.user!.id;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new AppError(400, 'VALIDATION', `${issue.path.join('.') || 'query'}: ${issue.message}`);
}
