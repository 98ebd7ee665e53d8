import type { FastifyInstance } from 'fastify';
import { AppError } from '@mp/contracts';
import type { Db } from '@mp/db';
import { bearerToken, createUser, secretEquals } from '@mp/auth';

/** POST /v1/users, guarded by ADMIN_TOKEN: returns the new user's token, once. */
export function registerUserRoutes(app: FastifyInstance, db: Db, adminToken: string): void {
  app.post<{ Body: { name: string } }>(
    '/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user (admin token); the API token is shown once',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
        },
      },
      // Before the body is read: a client without the token cannot hold the connection by sending one slowly.
      onRequest: async (req) => {
        const token = bearerToken(req.headers.authorization);
        if (!token || !secretEquals(token, adminToken)) {
          throw new AppError(401, 'UNAUTHENTICATED', 'The admin token is required to create users.');
        }
      },
    },
    async (req, reply) => {
      const name = req.body.name.trim();
      if (!name) throw new AppError(400, 'VALIDATION', 'The name must have at least one character other than spaces.');
      const user = await createUser(db, name);
      return reply.status(201).send(user);
    },
  );
}
