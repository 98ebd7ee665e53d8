import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateJobCommand, CreatePipelineCommand, ReadJobCommand, type Job } from '@aws-sdk/client-elastic-transcoder';
import { SeedPresets } from '@mp/contracts';
import { createTestEnv, eventually, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import { ROLE, putObject, startApi, type RunningApi } from './support';

let t: TestEnv;
let svc: RunningApi;
const workers: TranscoderWorker[] = [];
let tmp: string;

beforeAll(async () => {
  t = await createTestEnv();
  svc = await startApi(t, { PIPELINE_CONCURRENCY: '1', WORKER_CONCURRENCY: '2' });
  // Two worker processes' worth of capacity (4 slots) against a limit of one job per pipeline.
  workers.push(await startWorker(svc.config), await startWorker(svc.config));
  tmp = await mkdtemp(path.join(os.tmpdir(), 'et-conc-'));
  await generateMedia('mp3', path.join(tmp, 'a.mp3'), { seconds: 2 });
  await putObject(t, 'in/a.mp3', await readFile(path.join(tmp, 'a.mp3')));
});
afterAll(async () => {
  for (const w of workers) await w.close();
  await svc?.close();
  await t?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

it('runs at most PIPELINE_CONCURRENCY jobs of one pipeline at a time, across workers', async () => {
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({ Name: 'one-at-a-time', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
  );
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: Pipeline!.Id,
        Input: { Key: 'in/a.mp3' },
        Outputs: [{ Key: `conc/${i}.flac`, PresetId: SeedPresets.flac }],
      }),
    );
    ids.push(Job!.Id!);
  }
  const jobs: Job[] = [];
  for (const id of ids) {
    jobs.push(
      await eventually(
        async () => {
          const { Job } = await svc.client.send(new ReadJobCommand({ Id: id }));
          return Job!.Status === 'Complete' ? Job : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      ),
    );
  }
  const spans = jobs
    .map((j) => [j.Timing!.StartTimeMillis!, j.Timing!.FinishTimeMillis!] as const)
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
});
