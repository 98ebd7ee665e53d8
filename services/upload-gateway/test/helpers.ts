import { createUser } from '@mp/contracts';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { configSchema } from '../src/config';
import { buildGateway, type Gateway } from '../src/server';

export const ADMIN = 'test-admin-token-0123456789';

export interface Running {
  t: TestEnv;
  gw: Gateway;
  url: string;
  user(name?: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export async function startGateway(overrides: Record<string, string> = {}, t?: TestEnv): Promise<Running> {
  const env = t ?? (await createTestEnv());
  const cfg = configSchema.parse({
    ...env.env,
    ADMIN_TOKEN: ADMIN,
    SWEEP_INTERVAL_MS: '200',
    SWEEP_MIN_AGE_MS: '0',
    ...overrides,
  });
  const gw = await buildGateway(cfg);
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = gw.app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    t: env,
    gw,
    url,
    user: (name = 'someone') => createUser(url, ADMIN, name),
    async close() {
      await gw.close();
      if (!t) await env.cleanup();
    },
  };
}

export async function upload(
  url: string,
  token: string | null,
  body: Blob | null,
  filename = 'file.bin',
  extra: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  if (body) form.append('file', body, filename);
  const res = await fetch(`${url}/v1/media`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}
