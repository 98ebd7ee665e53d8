import { describe, expect, it } from 'vitest';
import { createLogger } from '@mp/logging';
import { createHttpServer } from './http';

describe('the error format for what the framework refuses', () => {
  const { app } = createHttpServer({ service: 'test', logger: createLogger('test', 'silent'), bodyLimit: 1024 });
  app.post('/echo', async (req) => req.body);

  it.each([
    ['a body that is not JSON', 'application/json', '{"name": x', 400, 'BAD_JSON', 'The body is not valid JSON.'],
    ['an empty JSON body', 'application/json', '', 400, 'BAD_JSON', 'The body is empty; send a JSON object.'],
    [
      'a content type no parser takes',
      'application/xml',
      '<a/>',
      415,
      'UNSUPPORTED_CONTENT_TYPE',
      'The body is not of a content type this route takes.',
    ],
    [
      'a body over the limit',
      'application/json',
      JSON.stringify({ x: 'y'.repeat(2000) }),
      413,
      'BODY_TOO_LARGE',
      'The body is larger than this route takes.',
    ],
  ])("%s: %i %s, in the project's words", async (_label, type, payload, status, code, message) => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': type }, payload });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error: { code, message } });
  });
});
