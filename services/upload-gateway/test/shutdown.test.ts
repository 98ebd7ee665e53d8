import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, eventually, freePort, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { ADMIN } from './helpers';

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv();
});
afterAll(() => t.cleanup());

it('on SIGTERM stops accepting, finishes the upload in flight, then exits 0', async () => {
  const port = await freePort();
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, ...t.env, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    () =>
      fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    { timeoutMs: 30_000 },
  );
  const user = (await (
    await fetch(`${url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: '{"name":"a"}',
    })
  ).json()) as { token: string };

  const mp3 = await readFile(await generateMedia('mp3', path.join(await mkdtemp(path.join(tmpdir(), 'gw-')), 'a.mp3')));
  const boundary = 'shutdownboundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = http.request(`${url}/v1/media`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${user.token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + mp3.length + tail.length,
    },
  });
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
    req.on('error', reject);
  });
  // Half the file, then SIGTERM, then the rest a moment later.
  const half = Math.floor(mp3.length / 2);
  req.write(Buffer.concat([head, mp3.subarray(0, half)]));
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 700));
  const refused = await fetch(`${url}/healthz`).then(
    () => false,
    () => true,
  );
  req.end(Buffer.concat([mp3.subarray(half), tail]));

  expect(await answered).toBe(201);
  expect(refused).toBe(true);
  expect(await exited).toBe(0);
});
