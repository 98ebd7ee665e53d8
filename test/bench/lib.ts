import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { spawnTs, waitForHttp } from '@mp/stack';
import { freePort } from '@mp/testbed';

export { freePort };

export const root = fileURLToPath(new URL('../..', import.meta.url));

export const pgUrl = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A scratch database for one benchmark run. */
export async function scratchDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = postgres(pgUrl(), { max: 1, onnotice: () => {} });
  const db = `${name}_${process.pid}`;
  await admin.unsafe(`drop database if exists "${db}" with (force)`);
  await admin.unsafe(`create database "${db}"`);
  const u = new URL(pgUrl());
  u.pathname = `/${db}`;
  return {
    url: u.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists "${db}" with (force)`);
      await admin.end();
    },
  };
}

/** Starts a service entry point as its own process (tsx), and waits for its /healthz. */
export async function startService(entry: string, env: Record<string, string>, port: number): Promise<ChildProcess> {
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const logLevel = env.LOG_LEVEL ?? process.env.BENCH_LOG_LEVEL ?? 'warn';
  const child = spawnTs(
    entry,
    entry,
    { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: logLevel },
    'inherit',
    nodeArgs,
  );
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, child, entry);
  } catch (err) {
    child.kill();
    throw err;
  }
  return child;
}

/** Resident set size of a process, in bytes (current and peak), from /proc. */
export function rss(pid: number): { current: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { current: kb('VmRSS'), peak: kb('VmHWM') };
}

export function machine(): string {
  const mem = Math.round(os.totalmem() / 1024 ** 3);
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${mem} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)]!;
}

/** Replaces (or appends) one `## <title>` section of docs/benchmarks.md. */
export async function writeSection(title: string, body: string): Promise<void> {
  const file = path.join(root, 'docs', 'benchmarks.md');
  await mkdir(path.dirname(file), { recursive: true });
  const current = await readFile(file, 'utf8').catch(
    () => '# Benchmarks\n\nFigures written by `npm run bench:*`. Each ratio is taken side by side in one run.\n',
  );
  const section = `## ${title}\n\n${body.trim()}\n`;
  const re = new RegExp(`## ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n[\\s\\S]*?(?=\\n## |$)`);
  await writeFile(file, re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}`);
}

/** An S3 endpoint for a benchmark: S3_ENDPOINT when set, else the embedded s3rver in its own process. */
export interface BenchS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

export async function benchS3(): Promise<BenchS3> {
  if (process.env.S3_ENDPOINT) {
    return {
      endpoint: process.env.S3_ENDPOINT,
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      close: async () => {},
    };
  }
  const port = await freePort();
  const child = spawnTs('s3rver', 'libs/testbed/src/s3rver-main.ts', { S3RVER_PORT: String(port) }, 'ignore');
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForHttp(`${endpoint}/`, child, 's3rver');
  const info = { endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  return {
    ...info,
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * CPU seconds of every process under `root` (Linux /proc): its own, and that of its children already
 * reaped (ffmpeg and ffprobe runs count under the process that spawned them). Keyed by pid.
 */
export async function processTreeCpu(
  root = process.pid,
): Promise<Map<number, { command: string; own: number; reaped: number }>> {
  const ticks = 100; // USER_HZ on Linux
  const all = new Map<number, { ppid: number; own: number; reaped: number; command: string }>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0').filter(Boolean).slice(-1)[0] ?? '';
      all.set(Number(name), {
        ppid: Number(f[1]),
        own: (Number(f[11]) + Number(f[12])) / ticks,
        reaped: (Number(f[13]) + Number(f[14])) / ticks,
        command,
      });
    } catch {
      // gone meanwhile
    }
  }
  const out = new Map<number, { command: string; own: number; reaped: number }>();
  const under = (pid: number): boolean => pid === root || (all.has(pid) && pid > 1 && under(all.get(pid)!.ppid));
  for (const [pid, p] of all)
    if (pid !== root && under(p.ppid)) out.set(pid, { command: p.command, own: p.own, reaped: p.reaped });
  return out;
}

/** CPU seconds of this process's children that have ended (Linux /proc/self/stat cutime + cstime). */
export async function reapedChildrenCpu(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

/**
 * A file of `size` bytes the gateway takes as audio: a WAV header, then random (incompressible) bytes.
 */
export async function makeWavFile(dir: string, size: number): Promise<string> {
  const file = path.join(dir, `big-${size}.wav`);
  const fh = await open(file, 'w');
  const header = wavHeader(size - 44);
  await fh.write(header);
  const chunk = randomBytes(8 * 1024 ** 2);
  for (let written = header.length; written < size;) {
    const n = Math.min(chunk.length, size - written);
    await fh.write(chunk, 0, n);
    written += n;
  }
  await fh.close();
  return file;
}

function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(2, 22);
  h.writeUInt32LE(44100, 24);
  h.writeUInt32LE(44100 * 4, 28);
  h.writeUInt16LE(4, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return h;
}

/** The gateway as its own process on the bench's S3 bucket, scratch database and Redis, with `env` on top. */
export function startBenchGateway(
  o: { databaseUrl: string; s3: BenchS3; bucket: string; adminToken: string; port: number },
  env: Record<string, string>,
): Promise<ChildProcess> {
  return startService(
    'services/upload-gateway/src/main.ts',
    {
      DATABASE_URL: o.databaseUrl,
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: `bench-${process.pid}`,
      S3_ENDPOINT: o.s3.endpoint,
      S3_BUCKET: o.bucket,
      AWS_ACCESS_KEY_ID: o.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: o.s3.secretAccessKey,
      ADMIN_TOKEN: o.adminToken,
      ...env,
    },
    o.port,
  );
}
