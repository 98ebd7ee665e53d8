import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { TestRoleRequest, parseRequest } from '../et/shapes';
import { jsonBody, type ApiContext } from './context';

/**
 * TestRole (deprecated in the model): there is no IAM here, so it checks what the role would have been
 * needed for: that the engine can reach both buckets.
 */
export function roleRoutes(app: FastifyInstance, ctx: ApiContext) {
  app.post('/roleTests', async (req) => {
    const body = parseRequest(TestRoleRequest, jsonBody(req));
    const messages: string[] = [];
    for (const bucket of new Set([body.InputBucket, body.OutputBucket])) {
      try {
        await ctx.s3.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        messages.push(`The bucket ${bucket} cannot be reached: ${(err as Error).name}.`);
      }
    }
    return { Success: messages.length === 0 ? 'true' : 'false', Messages: messages };
  });
}
