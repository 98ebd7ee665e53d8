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
    },
    async (req, reply) => {
      const token = bearerToken(req.headers.authorization);
      if (!token || !secretEquals(token, adminToken)) {
        throw new AppError(401, 'UNAUTHENTICATED', 'The admin token is required to create users.');
      }
      const user = await createUser(db, req.body.name.trim());
      return reply.status(201).send(user);
    },
  );
}
