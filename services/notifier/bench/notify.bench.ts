/**
 * Notifier benchmark: CLIENTS sockets on one notifier process, NOTIFICATIONS `notify` jobs spread across them;
 * latency from queueing the job to the owner's socket receiving the notification, and memory per connection.
 *
 *   npm run bench:notify        (env: DATABASE_URL admin URL, REDIS_URL, CLIENTS, NOTIFICATIONS, RATE jobs/s;
 *                                BENCH_DEBUG=1 also prints the notifier's own metrics)
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { io, type Socket } from 'socket.io-client';
import { generateToken, hashToken } from '@mp/auth';
import { JobName, QueueName, jobOptions, type NotificationDto } from '@mp/contracts';
import { createDb, media, runMigrations, users } from '@mp/db';
import { createQueue, producerConnection } from '@mp/runtime';
import { deleteKeys, withDatabase } from '@mp/testbed';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CLIENTS = Number(process.env.CLIENTS ?? 1000);
const NOTIFICATIONS = Number(process.env.NOTIFICATIONS ?? 1000);
const RATE = Number(process.env.RATE ?? 200);
const WARMUP = Math.min(20, CLIENTS);

const id = randomBytes(4).toString('hex');
const dbName = `mp_bench_${id}`;
const prefix = `mpbench-${id}`;
const admin = createDb(ADMIN_URL, { max: 1 }).sql;
const dbUrl = withDatabase(ADMIN_URL, dbName);

async function main() {
  await admin.unsafe(`create database "${dbName}"`);
  await runMigrations(dbUrl);
  const database = createDb(dbUrl);
  const queueRedis = producerConnection(REDIS_URL, { enableOfflineQueue: true });
  const queue = createQueue(QueueName.notify, queueRedis, prefix);
  const notifier = await spawnNotifier();
  const sockets: Socket[] = [];
  try {
    const people = await createUsers(database.db, CLIENTS);
    const received = new Map<string, number>();
    const wrongOwner: string[] = [];
    const owners = new Map<string, string>();
    const connectAll = async (batch: Person[]) => {
      for (let i = 0; i < batch.length; i += 50) {
        sockets.push(
          ...(await Promise.all(
            batch.slice(i, i + 50).map((p) => connectClient(notifier.url, p, owners, received, wrongOwner)),
          )),
        );
      }
    };
    // A few connections first, so the baseline includes what the first connection loads once.
    await connectAll(people.slice(0, WARMUP));
    await sleep(1000);
    const before = await processMemory(notifier.url);
    const t0 = performance.now();
    await connectAll(people.slice(WARMUP));
    const connectMs = performance.now() - t0;
    await sleep(2000);
    const after = await processMemory(notifier.url);

    const steady = await run(notifier.url, database.db, queue, people, owners, received, RATE);
    const burst = await run(notifier.url, database.db, queue, people, owners, received, 0);

    const measured = Math.max(1, CLIENTS - WARMUP);
    const perConnRss = (after.rss - before.rss) / measured;
    const perConnHeap = (after.heap - before.heap) / measured;
    const report = [
      `machine: ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      `clients connected: ${sockets.filter((s) => s.connected).length}/${CLIENTS} (${measured} of them in ${Math.round(connectMs)} ms)`,
      `notifier memory: rss ${mb(before.rss)} → ${mb(after.rss)} MiB, heap ${mb(before.heap)} → ${mb(after.heap)} MiB`,
      `memory per connection (over the ${measured} after warm-up): ~${kb(perConnRss)} KiB rss, ~${kb(perConnHeap)} KiB heap`,
      describeRun(steady, `steady, ${RATE} jobs/s`),
      describeRun(burst, 'burst, all queued at once'),
      `deliveries to a socket that did not own the media: ${wrongOwner.length}`,
    ];
    console.log(report.join('\n'));
    if (process.env.BENCH_DEBUG)
      console.log(
        (await (await fetch(`${notifier.url}/metrics`)).text())
          .split('\n')
          .filter((l) => l.startsWith('notifier_'))
          .join('\n'),
      );
  } finally {
    for (const s of sockets) s.disconnect();
    notifier.child.kill('SIGTERM');
    await new Promise((r) => notifier.child.once('exit', r));
    await queue.close();
    queueRedis.disconnect();
    await database.close();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
    await deleteKeys(REDIS_URL, `${prefix}:*`);
  }
}

interface Person {
  id: string;
  token: string;
}

interface RunResult {
  sent: number;
  delivered: number;
  latencies: number[];
  durationMs: number;
  /** CPU time the notifier process spent during the run. */
  cpuMs: number;
}

/** Queues NOTIFICATIONS jobs, one media each, owners round-robin; RATE 0 queues them all at once. */
async function run(
  notifierUrl: string,
  db: ReturnType<typeof createDb>['db'],
  queue: ReturnType<typeof createQueue>,
  people: Person[],
  owners: Map<string, string>,
  received: Map<string, number>,
  rate: number,
): Promise<RunResult> {
  const rows = Array.from({ length: NOTIFICATIONS }, (_, i) => {
    const owner = people[i % people.length]!;
    const mediaId = randomUUID();
    owners.set(mediaId, owner.id);
    return {
      id: mediaId,
      userId: owner.id,
      name: `file-${i}.mp3`,
      kind: 'audio' as const,
      contentType: 'audio/mpeg',
      size: 1,
      s3Key: `media/${owner.id}/${mediaId}/file-${i}.mp3`,
      status: 'complete' as const,
    };
  });
  for (let i = 0; i < rows.length; i += 500) await db.insert(media).values(rows.slice(i, i + 500));

  const queuedAt = new Map<string, number>();
  const cpuBefore = (await processMemory(notifierUrl)).cpu;
  const start = performance.now();
  if (rate > 0) {
    const interval = 1000 / rate;
    for (let i = 0; i < rows.length; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      queuedAt.set(rows[i]!.id, performance.now());
      void queue.add(JobName.notify, { mediaId: rows[i]!.id, kind: 'media.complete' }, jobOptions(QueueName.notify));
    }
  } else {
    const now = performance.now();
    for (const r of rows) queuedAt.set(r.id, now);
    await queue.addBulk(
      rows.map((r) => ({
        name: JobName.notify,
        data: { mediaId: r.id, kind: 'media.complete' as const },
        opts: jobOptions(QueueName.notify),
      })),
    );
  }
  const deadline = Date.now() + 60_000;
  while (rows.some((r) => !received.has(r.id)) && Date.now() < deadline) await sleep(50);
  const durationMs = performance.now() - start;
  const latencies = rows.filter((r) => received.has(r.id)).map((r) => received.get(r.id)! - queuedAt.get(r.id)!);
  const cpuMs = ((await processMemory(notifierUrl)).cpu - cpuBefore) * 1000;
  return { sent: rows.length, delivered: latencies.length, latencies, durationMs, cpuMs };
}

function describeRun(r: RunResult, label: string): string {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const q = (p: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!.toFixed(1) : 'n/a';
  return `${label}: delivered ${r.delivered}/${r.sent} in ${Math.round(r.durationMs)} ms; latency p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; notifier CPU ${(r.cpuMs / r.sent).toFixed(2)} ms per notification`;
}

async function createUsers(db: ReturnType<typeof createDb>['db'], n: number): Promise<Person[]> {
  const people = Array.from({ length: n }, () => ({ id: randomUUID(), token: generateToken() }));
  for (let i = 0; i < n; i += 500) {
    await db
      .insert(users)
      .values(
        people.slice(i, i + 500).map((p, j) => ({ id: p.id, name: `bench-${i + j}`, tokenHash: hashToken(p.token) })),
      );
  }
  return people;
}

function connectClient(
  url: string,
  person: Person,
  owners: Map<string, string>,
  received: Map<string, number>,
  wrongOwner: string[],
): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, auth: { token: person.token }, timeout: 20_000 });
  socket.on('notification', (n: NotificationDto) => {
    const at = performance.now();
    if (!n.mediaId) return;
    if (owners.get(n.mediaId) !== person.id) wrongOwner.push(n.mediaId);
    if (!received.has(n.mediaId)) received.set(n.mediaId, at);
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function spawnNotifier(): Promise<{ child: ReturnType<typeof spawn>; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`notifier exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'notifier listening') resolve({ child, url: `http://127.0.0.1:${entry.port}` });
    });
  });
}

/** The notifier's own figures, from its /metrics (default Node metrics). */
async function processMemory(url: string): Promise<{ rss: number; heap: number; cpu: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
  return {
    rss: value('process_resident_memory_bytes'),
    heap: value('nodejs_heap_size_used_bytes'),
    cpu: value('process_cpu_seconds_total'),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const kb = (b: number) => (b / 1024).toFixed(1);

await main();
