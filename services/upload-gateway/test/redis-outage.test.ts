import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueName, transcodeJobId } from '@mp/contracts';
import { createTestEnv, eventually, freePort, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { startGateway, upload, type Running } from './helpers';

// The gateway talks to a Redis of its own here, so that stopping it harms no other test.
let port: number;
let redis: ChildProcess | null = null;
let t: TestEnv;
let g: Running;

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await eventually(async () => {
    const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } finally {
      c.disconnect();
    }
  });
}

async function stopRedis(): Promise<void> {
  const p = redis;
  redis = null;
  if (!p) return;
  await new Promise((r) => {
    p.once('exit', r);
    p.kill('SIGKILL');
  });
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  t = await createTestEnv();
  g = await startGateway({ REDIS_URL: `redis://127.0.0.1:${port}` }, t);
});
afterAll(async () => {
  await g.close();
  await stopRedis();
  await t.cleanup();
});

it('accepts an upload while Redis is down and queues it once Redis is back', async () => {
  const alice = await g.user('alice');
  const mp3 = await readFile(await generateMedia('mp3', path.join(await mkdtemp(path.join(tmpdir(), 'gw-')), 'a.mp3')));
  await stopRedis();

  const res = await upload(g.url, alice.token, new Blob([mp3]), 'a.mp3');
  expect(res.status).toBe(201);
  const m = res.body as { id: string; status: string };
  expect(m.status).toBe('uploaded');

  await startRedis();
  const conn = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null });
  const queue = new Queue(QueueName.transcode, { connection: conn, prefix: t.queuePrefix });
  try {
    const job = await eventually(() => queue.getJob(transcodeJobId(m.id)), { timeoutMs: 30_000 });
    expect(job.data).toEqual({ mediaId: m.id });
    const after = await eventually(async () => {
      const r = await fetch(`${g.url}/v1/media/${m.id}`, { headers: { authorization: `Bearer ${alice.token}` } });
      const body = (await r.json()) as { status: string };
      return body.status === 'queued' ? body : null;
    });
    expect(after.status).toBe('queued');
  } finally {
    await queue.close();
    conn.disconnect();
  }
});
