import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateJobCommand, CreatePipelineCommand, ReadJobCommand } from '@aws-sdk/client-elastic-transcoder';
import type { EtNotification, SnsEnvelope } from '@mp/contracts';
import { createTestEnv, eventually, startSnsSubscriber, type SnsSubscriber, type TestEnv } from '@mp/testbed';
import { ffprobe, generateMedia } from '@mp/testbed/media';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import { KEY_ID, ROLE, SECRET, getObject, putObject, signedFetch, startApi, type RunningApi } from './support';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:et-crash';
const LEASE_MS = '2000';
// Progress shows early and the input is long enough that a job is seen under way well before it ends.
const PROGRESS_MS = '200';
const SECONDS = 30;

let t: TestEnv;
let svc: RunningApi;
let child: ChildProcess | undefined;
let worker: TranscoderWorker | undefined;
let subscriber: SnsSubscriber<SnsEnvelope>;
let tmp: string;

beforeAll(async () => {
  t = await createTestEnv();
  subscriber = await startSnsSubscriber<SnsEnvelope>();
  const subUrl = subscriber.url;
  svc = await startApi(t, {
    ET_LEASE_MS: LEASE_MS,
    ET_PROGRESS_INTERVAL_MS: PROGRESS_MS,
    ET_DELIVERY_SUBSCRIPTIONS: JSON.stringify({ [TOPIC]: [subUrl] }),
  });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'et-crash-'));
  await generateMedia('mp4', path.join(tmp, 'long.mp4'), { seconds: SECONDS, width: 1280, height: 720 });
  await putObject(t, 'in/long.mp4', await readFile(path.join(tmp, 'long.mp4')));
}, 120_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
  await worker?.close();
  await svc?.close();
  await subscriber?.close();
  await t?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A worker as its own process (npm run start:worker), in its own process group so ffmpeg dies with it. */
function spawnWorker(): ChildProcess {
  const c = svc.config;
  const env = {
    ...process.env,
    ...t.env,
    ET_CREDENTIALS: `${KEY_ID}:${SECRET}`,
    ET_ACCOUNT_ID: c.ET_ACCOUNT_ID,
    ET_LEASE_MS: LEASE_MS,
    ET_PROGRESS_INTERVAL_MS: PROGRESS_MS,
    ET_PUBLIC_URL: c.ET_PUBLIC_URL,
    ET_DELIVERY_SUBSCRIPTIONS: JSON.stringify(c.ET_DELIVERY_SUBSCRIPTIONS),
  };
  return spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env,
    detached: true,
    stdio: 'ignore',
  });
}

/** Waits until ffmpeg is under way (Progressing with some progress); fails at once if the job has ended. */
async function transcodingUnderWay(jobId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let seen = '';
  while (Date.now() < deadline) {
    const res = await signedFetch(svc.url, 'GET', `/2012-09-25/jobs/${jobId}`);
    const { Job: j } = (await res.json()) as { Job: { Status: string; progress?: number } };
    if (j.Status === 'Progressing' && (j.progress ?? 0) > 0) return;
    if (j.Status !== 'Submitted' && j.Status !== 'Progressing')
      throw new Error(`job ${jobId} ended (${j.Status}) before it was seen under way`);
    seen = `${j.Status}, progress ${j.progress ?? '-'}`;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${jobId} not under way after 60 s: ${seen}`);
}

it('finishes a job exactly once when its worker is killed in the middle of it', async () => {
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({
      Name: 'crash',
      InputBucket: t.bucket,
      OutputBucket: t.bucket,
      Role: ROLE,
      Notifications: { Progressing: TOPIC, Completed: TOPIC, Error: TOPIC },
    }),
  );
  child = spawnWorker();
  const { Job } = await svc.client.send(
    new CreateJobCommand({
      PipelineId: Pipeline!.Id,
      Input: { Key: 'in/long.mp4' },
      Outputs: [
        { Key: 'crash/720p.mp4', PresetId: '1351620000001-000010' },
        { Key: 'crash/audio.wav', PresetId: '1351620000001-300300' },
      ],
    }),
  );
  const jobId = Job!.Id!;

  // Wait until ffmpeg is under way in the child, then kill the whole process group.
  await transcodingUnderWay(jobId);
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  expect((await svc.client.send(new ReadJobCommand({ Id: jobId }))).Job!.Status).toBe('Progressing');
  // The killed worker's scratch files (its input and partial outputs) are still there...
  const scratchOf = async (pid: number) =>
    (await readdir(svc.config.ET_TMP_DIR)).filter((d) => d.startsWith(`${os.hostname()}-${pid}-`));
  const [left] = await scratchOf(child.pid!);
  expect(await readdir(path.join(svc.config.ET_TMP_DIR, left!))).toEqual([expect.stringMatching(/^et-job-/)]);

  worker = await startWorker(svc.config);
  // ...until the next worker on this host starts.
  expect(await scratchOf(child.pid!)).toEqual([]);
  const done = await eventually(
    async () => {
      const { Job: j } = await svc.client.send(new ReadJobCommand({ Id: jobId }));
      return j!.Status === 'Progressing' ? undefined : j;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  expect(done.Status).toBe('Complete');
  expect(done.Outputs!.map((o) => o.Status)).toEqual(['Complete', 'Complete']);

  const file = path.join(tmp, 'out.mp4');
  await writeFile(file, await getObject(t, 'crash/720p.mp4'));
  const probe = await ffprobe(file);
  expect(Number(probe.format.duration)).toBeGreaterThan(SECONDS - 1);

  const sql = postgres(t.databaseUrl, { max: 1 });
  try {
    const [row] = await sql<{ attempts: number }[]>`select attempts from transcoder.jobs where id = ${jobId}`;
    expect(row!.attempts).toBe(2);
    const states = await sql<{ state: string; n: number }[]>`
      select state, count(*)::int as n from transcoder.messages
      where job_id = ${jobId} and body not like '%"progress" :%' group by state order by state`;
    expect(states).toEqual([
      { state: 'COMPLETED', n: 1 },
      { state: 'PROGRESSING', n: 1 },
    ]);
  } finally {
    await sql.end();
  }
  const completed = await eventually(async () => {
    const got = subscriber.received
      .map((r) => r.envelope)
      .filter((e) => e.Type === 'Notification' && (JSON.parse(e.Message) as EtNotification).state === 'COMPLETED');
    return got.length > 0 ? got : undefined;
  });
  expect(new Set(completed.map((e) => e.MessageId)).size).toBe(1);
  await worker.close();
  worker = undefined;
}, 240_000);

it('hands a running job over at once when its worker shuts down gracefully', async () => {
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({ Name: 'graceful', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
  );
  const first = await startWorker(svc.config);
  const { Job } = await svc.client.send(
    new CreateJobCommand({
      PipelineId: Pipeline!.Id,
      Input: { Key: 'in/long.mp4' },
      Outputs: [{ Key: 'graceful/720p.mp4', PresetId: '1351620000001-000010' }],
    }),
  );
  await transcodingUnderWay(Job!.Id!);
  await first.close();
  const second = await startWorker(svc.config);
  try {
    const done = await eventually(
      async () => {
        const { Job: j } = await svc.client.send(new ReadJobCommand({ Id: Job!.Id }));
        return j!.Status === 'Progressing' ? undefined : j;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    expect(done.Status).toBe('Complete');
    const sql = postgres(t.databaseUrl, { max: 1 });
    const [row] = await sql<
      { attempts: number }[]
    >`select attempts from transcoder.jobs where id = ${Job!.Id!}`.finally(() => sql.end());
    expect(row!.attempts).toBe(2);
  } finally {
    await second.close();
  }
}, 240_000);
