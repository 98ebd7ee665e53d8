// CreateJob with an input that names a local file of the worker's (any Elastic Transcoder client can send
// one): the job ends in Error with 4000 and a readable StatusDetail, nothing is written, the worker goes on.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateJobCommand, CreatePipelineCommand } from '@aws-sdk/client-elastic-transcoder';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SeedPresets } from '@mp/contracts';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { hostileInputs, makeSecretMedia } from '@mp/testbed/hostile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import { ROLE, putObject, startApi, type RunningApi, finalJob as finalJobOf } from './support';

let t: TestEnv;
let svc: RunningApi;
let worker: TranscoderWorker;
let tmp: string;
let pipelineId: string;
let secret: string;

beforeAll(async () => {
  t = await createTestEnv();
  svc = await startApi(t);
  worker = await startWorker(svc.config);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'et-hostile-'));
  secret = await makeSecretMedia(path.join(tmp, 'secret.ts'));
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({ Name: 'hostile', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
  );
  pipelineId = Pipeline!.Id!;
});
afterAll(async () => {
  await worker?.close();
  await svc?.close();
  await t?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const finalJob = (id: string) => finalJobOf(svc.client, id, 60_000);

describe('CreateJob with an input that names a local file', () => {
  it.each([
    'an HLS playlist behind a long ID3 tag',
    'an ffconcat script behind a long ID3 tag',
    'an SDP session behind a long ID3 tag',
  ])('%s ends in Error 4000 and writes nothing', async (name) => {
    const input = hostileInputs(secret).find((h) => h.name === name)!;
    const key = `media/${input.demuxer}.mp3`;
    await putObject(t, key, input.bytes);
    const prefix = `hostile/${input.demuxer}/`;
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: key },
        OutputKeyPrefix: prefix,
        Outputs: [
          { Key: 'a.wav', PresetId: SeedPresets.wav },
          { Key: 'a.flac', PresetId: SeedPresets.flac },
          { Key: 'a.m4a', PresetId: SeedPresets.aacMp4 },
        ],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Error');
    for (const o of done.Outputs!) {
      expect(o.Status).toBe('Error');
      expect(o.StatusDetail).toMatch(
        new RegExp(
          `^4000 [0-9a-f-]{36}: Amazon Elastic Transcoder could not interpret the media file: its container \\(${input.demuxer}\\) is not an audio or video format the service accepts\\.$`,
        ),
      );
    }
    const listed = await t.s3Client.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: prefix }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });
});
