import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { verifySigV4, type ReceivedRequest } from './sigv4';

const secrets = new Map([['AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY']]);
const NOW = new Date('2026-11-21T10:00:00Z');

/** Signs as the SDK does, then hands the server what it would receive on the wire. */
async function received(
  opts: {
    method?: string;
    path?: string;
    query?: Record<string, string>;
    body?: string;
    secret?: string;
    at?: Date;
  } = {},
): Promise<ReceivedRequest> {
  const signer = new SignatureV4({
    service: 'elastictranscoder',
    region: 'us-east-1',
    sha256: Sha256,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: opts.secret ?? secrets.get('AKIDEXAMPLE')! },
  });
  const path = opts.path ?? '/2012-09-25/pipelines';
  const signed = await signer.sign(
    {
      method: opts.method ?? 'GET',
      protocol: 'http:',
      hostname: 'localhost',
      port: 3003,
      path,
      query: opts.query ?? {},
      headers: { host: 'localhost:3003', ...(opts.body ? { 'content-type': 'application/json' } : {}) },
      body: opts.body,
    },
    { signingDate: opts.at ?? NOW },
  );
  const qs = new URLSearchParams(opts.query ?? {}).toString().replace(/\+/g, '%20');
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: signed.method, url: qs ? `${path}?${qs}` : path, headers, body: Buffer.from(opts.body ?? '') };
}

describe('verifySigV4', () => {
  it('accepts a request signed with a known key pair', async () => {
    const req = await received({ method: 'POST', body: '{"Name":"p"}' });
    expect(await verifySigV4(req, secrets, NOW)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
  });

  it('accepts query strings and encoded path segments as the SDK signs them', async () => {
    const req = await received({
      path: '/2012-09-25/jobsByPipeline/1111111111111-abcdef',
      query: { Ascending: 'true', PageToken: '1111111111111-abcdeg' },
    });
    expect((await verifySigV4(req, secrets, NOW)).ok).toBe(true);
  });

  it.each([
    ['a wrong secret', { secret: 'nope' }, 'does not match'],
    ['a clock 16 minutes off', { at: new Date(NOW.getTime() - 16 * 60_000) }, 'expired'],
  ])('refuses %s', async (_name, opts, reason) => {
    const result = await verifySigV4(await received(opts), secrets, NOW);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });

  it('allows 14 minutes of clock skew', async () => {
    expect((await verifySigV4(await received({ at: new Date(NOW.getTime() + 14 * 60_000) }), secrets, NOW)).ok).toBe(
      true,
    );
  });

  it('refuses a changed body, path or query', async () => {
    const body = await received({ method: 'POST', body: '{"Name":"p"}' });
    expect((await verifySigV4({ ...body, body: Buffer.from('{"Name":"q"}') }, secrets, NOW)).ok).toBe(false);
    const path = await received();
    expect((await verifySigV4({ ...path, url: '/2012-09-25/presets' }, secrets, NOW)).ok).toBe(false);
    const query = await received({ query: { Ascending: 'true' } });
    expect((await verifySigV4({ ...query, url: '/2012-09-25/pipelines?Ascending=false' }, secrets, NOW)).ok).toBe(
      false,
    );
  });

  it('refuses an unknown key id and a missing header', async () => {
    const req = await received();
    const unknown = {
      ...req,
      headers: { ...req.headers, authorization: String(req.headers.authorization).replace('AKIDEXAMPLE', 'AKIDOTHER') },
    };
    expect(await verifySigV4(unknown, secrets, NOW)).toEqual({
      ok: false,
      reason: 'The security token included in the request is invalid',
    });
    expect(await verifySigV4({ ...req, headers: {} }, secrets, NOW)).toEqual({
      ok: false,
      reason: 'Missing Authentication Token',
    });
  });
});
