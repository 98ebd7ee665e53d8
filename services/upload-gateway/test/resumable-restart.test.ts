// A gateway process killed (SIGKILL) in the middle of a resumable upload: a new process resumes the upload from
// what S3 holds, and the file completes with the same bytes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUser } from '@mp/contracts';
import { createTestEnv, eventually, freePort, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { ADMIN } from './helpers';
import { create, head, MiB, patch } from './tus-helpers';

let t: TestEnv;
let dir: string;
const children: ChildProcess[] = [];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  t = await createTestEnv();
  dir = await mkdtemp(path.join(tmpdir(), 'gw-tus-restart-'));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await t.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startProcess(port: number): Promise<{ url: string; child: ChildProcess }> {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      ...process.env,
      ...t.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: ADMIN,
      UPLOAD_PART_BYTES: String(5 * MiB),
    },
    stdio: 'ignore',
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    () =>
      fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    { timeoutMs: 30_000 },
  );
  return { url, child };
}

it('resumes an upload after the gateway process was killed mid-PATCH and started again', async () => {
  const port = await freePort();
  const first = await startProcess(port);
  const user = await createUser(first.url, ADMIN, 'phone');
  const sound = await readFile(await generateMedia('wav', path.join(dir, 'tone.wav'), { seconds: 1 }));
  const file = Buffer.concat([sound, randomBytes(12 * MiB - sound.length)]);

  const c = await create(first.url, user.token, file.length, { name: 'long take.wav' });
  expect(c.status).toBe(201);
  const uploadPath = new URL(c.url!).pathname;

  // 7 MiB of the file go out in one PATCH; once the first 5 MiB part is in S3, the process is killed.
  const req = http.request(`${first.url}${uploadPath}`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${user.token}`,
      'tus-resumable': '1.0.0',
      'upload-offset': '0',
      'content-type': 'application/offset+octet-stream',
      'content-length': String(file.length),
    },
  });
  const gone = new Promise<void>((resolve) => {
    req.on('error', () => resolve());
    req.on('close', () => resolve());
  });
  req.write(file.subarray(0, 7 * MiB));
  const exited = new Promise<void>((r) => first.child.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, 1500));
  first.child.kill('SIGKILL');
  await exited;
  await gone;

  const second = await startProcess(port);
  const url = `${second.url}${uploadPath}`;
  const h = await head(url, user.token);
  expect(h.status).toBe(200);
  // What S3 holds: the whole first part at least; the part in flight when the process died is sent again.
  expect(h.offset).toBeGreaterThanOrEqual(5 * MiB);
  expect(h.offset).toBeLessThanOrEqual(7 * MiB);
  const rest = await patch(url, user.token, h.offset!, file.subarray(h.offset!));
  expect(rest.status).toBe(204);

  const mediaId = rest.headers.get('media-id')!;
  const m = (await (
    await fetch(`${second.url}/v1/media/${mediaId}`, { headers: { authorization: `Bearer ${user.token}` } })
  ).json()) as { size: number; kind: string };
  expect(m).toMatchObject({ size: file.length, kind: 'audio' });
  const got = await t.s3Client.send(
    new GetObjectCommand({ Bucket: t.bucket, Key: `uploads/${uploadPath.split('/').pop()}` }),
  );
  expect(sha(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha(file));
}, 90_000);
