import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifier, type RunningNotifier } from '../src/server';
import { createBed, type Bed } from './helpers';

// The web page is served by the gateway, so its REST calls here are cross-origin.
let bed: Bed;
let notifier: RunningNotifier;

beforeAll(async () => {
  bed = await createBed();
  notifier = await startNotifier(bed.config({ CORS_ORIGINS: 'http://127.0.0.1:3000' }));
});
afterAll(async () => {
  await notifier?.close();
  await bed?.close();
});

describe('CORS on the REST routes', () => {
  it('answers a preflight from the page, also opened at another host, and echoes the origin on the answer', async () => {
    const u = await bed.user('cors');
    for (const origin of ['http://127.0.0.1:3000', 'http://192.168.1.20:3000']) {
      const pre = await fetch(`${notifier.url}/v1/notifications/read-all`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
      expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
      const res = await fetch(`${notifier.url}/v1/notifications/read-all`, {
        method: 'POST',
        headers: { origin, authorization: `Bearer ${u.token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('gives another origin no CORS header, so its page cannot read the answer', async () => {
    const res = await fetch(`${notifier.url}/v1/notifications`, { headers: { origin: 'http://127.0.0.1:4000' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
