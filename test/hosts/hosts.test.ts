// The system spread over three hosts: network namespaces of this machine, joined by veth pairs to a bridge (in
// a namespace of its own) that carries one /24 of 10.77.0.0/16 made for this run. Hosts a and b each run a
// gateway, a dispatcher, an engine API and worker, sns-ingest and a notifier; host c runs Postgres, Redis and S3.
// Processes of a and b reach c only at c's address on that network.
//
// What the namespaces do not separate: the filesystem. All hosts see this machine's disk; this test gives each
// host's processes their own folders (TMPDIR, the engine's scratch, the dispatcher's, their logs) and checks that
// no process is handed a path of another host's folder. It does not prove they could not reach one.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient, createUser, type NotificationDto } from '@mp/contracts';
import { createS3Client } from '@mp/storage';
import { generateMedia } from '@mp/testbed/media';
import { createTestNetwork, netnsUnavailable, type TestNetwork } from './netns';
import { descendants, startHostsSystem, stopProcess, type HostProcess, type HostsSystem } from './system';

const run = promisify(execFile);
const skipReason = await netnsUnavailable();
if (skipReason) console.warn(`several-hosts test skipped: ${skipReason}`);

let net: TestNetwork;
let sys: HostsSystem;
let sql: postgres.Sql;
let fixtures: string;
let alice: { id: string; token: string };
let ears: Ears;
let workerA: HostProcess;

beforeAll(async () => {
  if (skipReason) return;
  fixtures = await mkdtemp(path.join(tmpdir(), 'mp-hosts-fixtures-'));
  net = await createTestNetwork();
  sys = await startHostsSystem(net, { leaseMs: 4000 });
  sql = postgres(sys.databaseUrl, { max: 2, onnotice: () => {} });
  workerA = await sys.a.startWorker();
  alice = await createUser(sys.b.urls.gateway, sys.adminToken, 'alice');
  ears = await listen(sys.a.urls.notifier, alice.token);
});

afterAll(async () => {
  ears?.socket.disconnect();
  await sql?.end();
  await sys?.stop();
  await net?.destroy();
  if (fixtures) await rm(fixtures, { recursive: true, force: true });
});

describe.skipIf(Boolean(skipReason))('three hosts: a and b run the services, c the state', () => {
  it('every process listens and connects only on the addresses of this network, none on loopback', async () => {
    const mine = new RegExp(`^${net.subnet.replace(/\.0\/24$/, '').replaceAll('.', '\\.')}\\.\\d+$`);
    for (const p of sys.processes) await expectNoLoopbackIn(p);
    for (const h of Object.values(net.hosts)) {
      const listening = await sockets(h.netns, ['-ltn']);
      expect(listening.length, `host ${h.name} listens`).toBeGreaterThan(0);
      for (const s of listening) expect(s.local, `host ${h.name} listens on`).toBe(h.address);
      const connected = await sockets(h.netns, ['-tn', 'state', 'established']);
      for (const s of connected) {
        expect(s.local, `host ${h.name}`).toBe(h.address);
        expect(s.peer, `host ${h.name}`).toMatch(mine);
      }
    }
    // Host a keeps its state on c: it holds connections to c's Postgres, Redis or S3.
    const fromA = await sockets(net.hosts.a.netns, ['-tn', 'state', 'established']);
    expect(fromA.some((s) => s.peer === net.hosts.c.address)).toBe(true);
  });

  it('no process is given a path of another host', () => {
    const dirs = { a: sys.a.dir, b: sys.b.dir, c: path.join(path.dirname(sys.a.dir), 'c') };
    for (const p of sys.processes) {
      const own = dirs[p.host];
      expect(p.env.TMPDIR?.startsWith(own + path.sep), `${p.host}/${p.name} TMPDIR`).toBe(true);
      for (const [k, v] of Object.entries(p.env)) {
        for (const [other, dir] of Object.entries(dirs)) {
          if (other !== p.host) expect(v, `${p.host}/${p.name} ${k}`).not.toContain(dir);
        }
      }
      expect(p.logFile.startsWith(own + path.sep)).toBe(true);
    }
    const engine = sys.processes.filter((p) => p.name.startsWith('transcoder'));
    for (const p of engine) expect(p.env.ET_TMP_DIR?.startsWith(dirs[p.host] + path.sep)).toBe(true);
  });

  it("a user's socket on host a's notifier hears about an upload made through host b's gateway", async () => {
    const file = await generateMedia('mp3', path.join(fixtures, 'song.mp3'), { seconds: 2 });
    const media = await gateway(sys.b.urls.gateway, alice.token).uploadBytes(await readFile(file), 'song.mp3');
    const n = await ears.waitFor((x) => x.mediaId === media.id);
    expect(n).toMatchObject({ kind: 'media.complete', text: 'Your file song.mp3 has been processed' });
    const after = await gateway(sys.a.urls.gateway, alice.token).media(media.id);
    expect(after.status).toBe('complete');
    // The download link host a's gateway hands out is c's S3, at c's address, and serves the output's bytes.
    const wav = after.outputs.find((o) => o.format === 'wav')!;
    const res = await fetch(`${sys.a.urls.gateway}/v1/media/${media.id}/outputs/${wav.id}/download`, {
      headers: { authorization: `Bearer ${alice.token}` },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.host).toBe(new URL(sys.s3.endpoint).host);
    const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(bytes.length).toBe(wav.size);
  });

  it('every service of hosts a and b is ready: its dependencies on c answer across the network', async () => {
    for (const h of [sys.a, sys.b]) {
      for (const [name, url] of Object.entries(h.urls)) {
        const res = await fetch(`${url}/readyz`);
        expect(res.status, `host ${h.host.name} ${name}`).toBe(200);
      }
    }
  });

  it("SIGKILL of host a's worker mid-job: host b's worker finishes the job, exactly once", async () => {
    // Long enough to catch host a's worker part-way through it.
    const file = await generateMedia('mp4', path.join(fixtures, 'long.mp4'), { seconds: 24, width: 854, height: 480 });
    const media = await gateway(sys.b.urls.gateway, alice.token).uploadBytes(await readFile(file), 'long.mp4');
    const jobId = await waitFor(async () => {
      const [row] = await sql<{ id: string }[]>`
        select engine_job_id as id from transcode_jobs where media_id = ${media.id} and engine_job_id is not null`;
      return row?.id;
    });
    const held = (owner: HostProcess) => sql<{ status: string; progress: number | null }[]>`
      select status, progress from transcoder.jobs
      where id = ${jobId} and lease_owner like ${`%:${owner.proc.pid}:%`}`;

    // Host a's worker (the only one) claims the job and transcodes a part of it.
    const [started] = await waitFor(async () => {
      const rows = await held(workerA);
      return rows[0]?.status === 'Progressing' && (rows[0].progress ?? 0) >= 5 ? rows : undefined;
    });
    // Its ffmpeg is frozen (not the worker: it keeps its lease by heartbeat) while host b's worker starts, so the
    // job is still mid-way at the kill however fast this machine transcodes.
    const frozen = await descendants(workerA.proc.pid!);
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    const workerB = await sys.b.startWorker();
    await expectNoLoopbackIn(workerB);
    const [atKill] = await held(workerA);
    expect(atKill).toMatchObject({ status: 'Progressing' });
    expect(atKill!.progress).toBeLessThan(100);
    // Host b's worker is up and idle: it holds no job.
    expect(await held(workerB)).toEqual([]);
    const killedAt = Date.now();
    process.kill(workerA.proc.pid!, 'SIGKILL');
    // And what it left running (its ffmpeg), as when its machine or container goes.
    await stopProcess(workerA, 'SIGKILL');
    for (const pid of frozen) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone with its sandbox.
      }
    }

    const n = await ears.waitFor((x) => x.mediaId === media.id, 150_000);
    expect(n).toMatchObject({ kind: 'media.complete', text: 'Your file long.mp4 has been processed' });
    console.log(
      `host a's worker killed at ${atKill!.progress}% (${started!.progress}% when frozen); host b's finished the job ${((Date.now() - killedAt) / 1000).toFixed(1)} s later`,
    );
    // Anything sent twice would arrive within this time.
    await new Promise((r) => setTimeout(r, 3000));
    expect(ears.notifications.filter((x) => x.mediaId === media.id)).toHaveLength(1);
    const stored = await sql`select kind from notifications where media_id = ${media.id}`;
    expect(stored.map((r) => r.kind)).toEqual(['media.complete']);

    const [job] = await sql<{ status: string }[]>`select status from transcoder.jobs where id = ${jobId}`;
    expect(job!.status).toBe('Complete');
    const states = await sql<{ state: string }[]>`
      select state from transcoder.messages where job_id = ${jobId} and state <> 'PROGRESSING'`;
    expect(states.map((r) => r.state)).toEqual(['COMPLETED']);
    // Host b's worker ran it to the end; host a's started it and never finished it.
    const logB = await readFile(workerB.logFile, 'utf8');
    const logA = await readFile(workerA.logFile, 'utf8');
    expect(finishedLines(logB, jobId)).toHaveLength(1);
    expect(finishedLines(logA, jobId)).toHaveLength(0);
    expect(logA).toContain(jobId);

    // One set of outputs: the media's two renditions, complete, and exactly their objects in S3.
    const after = await gateway(sys.a.urls.gateway, alice.token).media(media.id);
    expect(after.status).toBe('complete');
    const formats = after.outputs.map((o) => o.format);
    expect(formats).toContain('mp4-480p');
    expect(new Set(formats).size).toBe(formats.length);
    for (const o of after.outputs) expect(o.status).toBe('complete');
    const [eng] = await sql<{ prefix: string | null; playlists: Array<{ Name: string }> }[]>`
      select output_key_prefix as prefix, playlists from transcoder.jobs where id = ${jobId}`;
    const prefix = eng!.prefix ?? '';
    const outs = await sql<{ key: string; thumbs: string[] | null }[]>`
      select key, thumbnail_keys as thumbs from transcoder.job_outputs where job_id = ${jobId}`;
    const objects = await listKeys(prefix);
    // A file output is its key; a segmented one (HLSv3, a key without extension) is <key>.m3u8 over <key>NNNNN.ts.
    const esc = (k: string, p = prefix) => (p + k).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const patterns = [
      ...outs.map(
        (o) => new RegExp(/\.[^./]+$/.test(o.key) ? `^${esc(o.key)}$` : `^${esc(o.key)}(\\d{5}\\.ts|\\.m3u8)$`),
      ),
      // Thumbnail keys are stored whole, the prefix included.
      ...outs.flatMap((o) => o.thumbs ?? []).map((k) => new RegExp(`^${esc(k, '')}$`)),
      ...eng!.playlists.map((p) => new RegExp(`^${esc(p.Name)}\\.m3u8$`)),
    ];
    for (const re of patterns)
      expect(
        objects.some((k) => re.test(k)),
        String(re),
      ).toBe(true);
    // Nothing else: no object left of the killed worker's attempt, none written twice under another name.
    const strays = objects.filter((k) => !patterns.some((re) => re.test(k)));
    expect(strays).toEqual([]);
  });
});

/** No loopback or wildcard address in what a process was given, nor in the environment it really has. */
async function expectNoLoopbackIn(p: HostProcess): Promise<void> {
  for (const [k, v] of Object.entries(p.env)) {
    expect(v, `${p.host}/${p.name} ${k}`).not.toMatch(/localhost|127\.0\.0\.1|\[?::1\]?|0\.0\.0\.0/);
  }
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  // Postgres and Redis write their process titles over their environment's memory; the rest are Node.
  if (p.name === 'postgres' || p.name === 'redis') return;
  // Nothing inherited from this process: the environment is exactly what it was given.
  const environ = (await readFile(`/proc/${p.proc.pid}/environ`, 'utf8')).split('\0').filter(Boolean);
  expect(environ.sort(), `${p.host}/${p.name}`).toEqual(
    Object.entries({ PATH: process.env.PATH, ...p.env })
      .map(([k, v]) => `${k}=${v}`)
      .sort(),
  );
}

/** The TCP sockets of one namespace, from `ss` (-H: no header; addresses without brackets). */
async function sockets(netns: string, args: string[]): Promise<Array<{ local: string; peer: string }>> {
  const { stdout } = await run('ip', ['netns', 'exec', netns, 'ss', '-H', ...args]);
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      // -l and "state established" drop the State column: Recv-Q Send-Q Local Peer.
      const [local = '', peer = ''] = cols.slice(-2);
      const host = (a: string) => a.replace(/:[^:]+$/, '').replace(/^\[|\]$/g, '');
      return { local: host(local), peer: host(peer) };
    });
}

function finishedLines(log: string, jobId: string): string[] {
  return log.split('\n').filter((l) => l.includes(jobId) && l.includes('"job finished"'));
}

async function listKeys(prefix: string): Promise<string[]> {
  const client = createS3Client({ ...sys.s3, forcePathStyle: true });
  try {
    const res = await client.send(new ListObjectsV2Command({ Bucket: sys.s3.bucket, Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key!).sort();
  } finally {
    client.destroy();
  }
}

const gateway = (baseUrl: string, token: string) => createGatewayClient({ baseUrl, token });

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Ears {
  socket: Socket;
  notifications: NotificationDto[];
  waitFor(pred: (n: NotificationDto) => boolean, timeoutMs?: number): Promise<NotificationDto>;
}

async function listen(url: string, token: string): Promise<Ears> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
  const notifications: NotificationDto[] = [];
  socket.on('notification', (n: NotificationDto) => notifications.push(n));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    socket,
    notifications,
    waitFor: (pred, timeoutMs = 120_000) =>
      waitFor(async () => notifications.find(pred), timeoutMs).catch(() => {
        throw new Error('no such notification arrived in time');
      }),
  };
}
