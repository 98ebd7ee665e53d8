import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CancelJobCommand,
  CreateJobCommand,
  CreatePipelineCommand,
  DeletePipelineCommand,
  ListJobsByPipelineCommand,
  ListJobsByStatusCommand,
  ReadJobCommand,
  UpdatePipelineStatusCommand,
  paginateListJobsByPipeline,
  paginateListPipelines,
  waitUntilJobComplete,
} from '@aws-sdk/client-elastic-transcoder';
import { SeedPresets } from '@mp/contracts';
import { createTestEnv, eventually, type TestEnv } from '@mp/testbed';
import { ffprobe, generateMedia } from '@mp/testbed/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import {
  ROLE,
  errorOf,
  getObject,
  putObject,
  signedFetch,
  startApi,
  type RunningApi,
  finalJob as finalJobOf,
} from './support';

let t: TestEnv;
let svc: RunningApi;
let worker: TranscoderWorker;
let tmp: string;
let pipelineId: string;

beforeAll(async () => {
  t = await createTestEnv();
  svc = await startApi(t);
  worker = await startWorker(svc.config);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'et-jobs-'));
  await putMedia('mp3', 'media/song.mp3', { seconds: 3 });
  await putMedia('mp4', 'media/clip.mp4', { seconds: 2, width: 320, height: 240 });
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({ Name: 'media-pipeline', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
  );
  pipelineId = Pipeline!.Id!;
});
afterAll(async () => {
  await worker?.close();
  await svc?.close();
  await t?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function putMedia(kind: 'mp3' | 'mp4', key: string, opts: { seconds: number; width?: number; height?: number }) {
  const file = path.join(tmp, path.basename(key));
  await generateMedia(kind, file, opts);
  const { readFile } = await import('node:fs/promises');
  await putObject(t, key, await readFile(file));
}

async function probeObject(key: string) {
  const file = path.join(tmp, `probe-${Math.random().toString(36).slice(2)}-${path.basename(key)}`);
  await writeFile(file, await getObject(t, key));
  return ffprobe(file);
}

const waitForJob = (id: string) =>
  waitUntilJobComplete({ client: svc.client, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { Id: id });

const finalJob = (id: string) => finalJobOf(svc.client, id);

describe('the seed flow', () => {
  it('finds the pipeline by name, transcodes to WAV, FLAC and AAC-in-MP4, and waits with waitUntilJobComplete', async () => {
    let found: string | undefined;
    for await (const page of paginateListPipelines({ client: svc.client }, {})) {
      for (const p of page.Pipelines ?? []) if (p.Name === 'media-pipeline') found = p.Id;
    }
    expect(found).toBe(pipelineId);

    const created = await svc.client.send(
      new CreateJobCommand({
        PipelineId: found,
        Input: {
          Key: 'media/song.mp3',
          FrameRate: 'auto',
          Resolution: 'auto',
          AspectRatio: 'auto',
          Interlaced: 'auto',
          Container: 'auto',
        },
        Outputs: [
          { Key: 'out/song.wav', PresetId: SeedPresets.wav },
          { Key: 'out/song.flac', PresetId: SeedPresets.flac },
          { Key: 'out/song.mp4', PresetId: SeedPresets.aacMp4 },
        ],
        UserMetadata: { mediaId: 'm-1' },
      }),
    );
    expect(created.$metadata.httpStatusCode).toBe(201);
    const job = created.Job!;
    expect(job.Id).toMatch(/^\d{13}-\w{6}$/);
    expect(job.Status).toBe('Submitted');
    expect(job.Outputs!.map((o) => o.Id)).toEqual(['1', '2', '3']);
    expect(typeof job.Timing!.SubmitTimeMillis).toBe('number');

    const waited = await waitForJob(job.Id!);
    expect(waited.state).toBe('SUCCESS');

    const { Job: done } = await svc.client.send(new ReadJobCommand({ Id: job.Id }));
    expect(done!.Status).toBe('Complete');
    expect(done!.UserMetadata).toEqual({ mediaId: 'm-1' });
    expect(done!.Input!.DetectedProperties!.DurationMillis).toBeGreaterThan(2500);
    expect(done!.Input!.DetectedProperties!.FileSize).toBeGreaterThan(1000);
    expect(done!.Timing!.FinishTimeMillis).toBeGreaterThanOrEqual(done!.Timing!.StartTimeMillis!);
    for (const o of done!.Outputs!) {
      expect(o.Status).toBe('Complete');
      expect(o.Duration).toBe(3);
      expect(o.DurationMillis).toBeGreaterThan(2500);
      expect(o.FileSize).toBeGreaterThan(1000);
    }

    const wav = await probeObject('out/song.wav');
    expect(wav.streams[0]).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '44100', channels: 2 });
    const flac = await probeObject('out/song.flac');
    expect(flac.format.format_name).toBe('flac');
    expect(flac.streams[0]).toMatchObject({ codec_name: 'flac', sample_rate: '44100', channels: 2 });
    const mp4 = await probeObject('out/song.mp4');
    expect(mp4.format.format_name).toContain('mp4');
    expect(mp4.streams).toHaveLength(1);
    expect(mp4.streams[0]).toMatchObject({
      codec_type: 'audio',
      codec_name: 'aac',
      profile: 'LC',
      sample_rate: '44100',
      channels: 2,
    });
    expect(Number(mp4.streams[0]!.bit_rate)).toBeGreaterThan(200_000);
  });

  it('makes Generic 720p video with thumbnails and reports its size and frame rate', async () => {
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/clip.mp4' },
        OutputKeyPrefix: 'video/',
        Outputs: [{ Key: 'clip-720p.mp4', PresetId: '1351620000001-000010', ThumbnailPattern: 'thumbs/clip-{count}' }],
      }),
    );
    await waitForJob(Job!.Id!);
    const { Job: done } = await svc.client.send(new ReadJobCommand({ Id: Job!.Id }));
    const out = done!.Outputs![0]!;
    expect(out.Status).toBe('Complete');
    const probe = await probeObject('video/clip-720p.mp4');
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    expect(video.codec_name).toBe('h264');
    expect(out.Width).toBe(video.width);
    expect(out.Height).toBe(video.height);
    expect(out.FrameRate).toBeTruthy();
    expect(done!.Input!.DetectedProperties).toMatchObject({ Width: 320, Height: 240 });
    const thumb = await getObject(t, 'video/thumbs/clip-00001.png').catch(() =>
      getObject(t, 'video/thumbs/clip-00001.jpg'),
    );
    expect(thumb.length).toBeGreaterThan(100);
  });
});

describe('job rules', () => {
  it('cancels a job while Submitted (paused pipeline), and refuses once it has started', async () => {
    const { Pipeline } = await svc.client.send(
      new CreatePipelineCommand({ Name: 'held', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
    );
    await svc.client.send(new UpdatePipelineStatusCommand({ Id: Pipeline!.Id, Status: 'Paused' }));
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: Pipeline!.Id,
        Input: { Key: 'media/song.mp3' },
        Outputs: [{ Key: 'held/a.wav', PresetId: SeedPresets.wav }],
      }),
    );
    const cancel = await svc.client.send(new CancelJobCommand({ Id: Job!.Id }));
    expect(cancel.$metadata.httpStatusCode).toBe(202);
    const { Job: canceled } = await svc.client.send(new ReadJobCommand({ Id: Job!.Id }));
    expect(canceled!.Status).toBe('Canceled');

    const { Job: running } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/song.mp3' },
        Outputs: [{ Key: 'cancel/late.wav', PresetId: SeedPresets.wav }],
      }),
    );
    await eventually(
      async () => (await svc.client.send(new ReadJobCommand({ Id: running!.Id }))).Job!.Status !== 'Submitted',
      { timeoutMs: 30_000 },
    );
    const refused = await errorOf(svc.client.send(new CancelJobCommand({ Id: running!.Id })));
    expect(refused.name).toBe('ResourceInUseException');
    expect(refused.$metadata?.httpStatusCode).toBe(409);
  });

  it('holds the jobs of a Paused pipeline, refuses to delete it while they wait, and runs them once Active', async () => {
    const { Pipeline } = await svc.client.send(
      new CreatePipelineCommand({ Name: 'pausable', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
    );
    await svc.client.send(new UpdatePipelineStatusCommand({ Id: Pipeline!.Id, Status: 'Paused' }));
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: Pipeline!.Id,
        Input: { Key: 'media/song.mp3' },
        Outputs: [{ Key: 'paused/a.flac', PresetId: SeedPresets.flac }],
      }),
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect((await svc.client.send(new ReadJobCommand({ Id: Job!.Id }))).Job!.Status).toBe('Submitted');
    const inUse = await errorOf(svc.client.send(new DeletePipelineCommand({ Id: Pipeline!.Id })));
    expect(inUse.name).toBe('ResourceInUseException');

    await svc.client.send(new UpdatePipelineStatusCommand({ Id: Pipeline!.Id, Status: 'Active' }));
    expect((await finalJob(Job!.Id!)).Status).toBe('Complete');
    await svc.client.send(new DeletePipelineCommand({ Id: Pipeline!.Id }));
  });

  it('fails only the output whose key already exists (3002)', async () => {
    await putObject(t, 'taken/exists.wav', Buffer.from('already here'));
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/song.mp3' },
        OutputKeyPrefix: 'taken/',
        Outputs: [
          { Key: 'exists.wav', PresetId: SeedPresets.wav },
          { Key: 'fresh.flac', PresetId: SeedPresets.flac },
        ],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Error');
    expect(done.Outputs![0]!.Status).toBe('Error');
    expect(done.Outputs![0]!.StatusDetail).toMatch(/^3002 [0-9a-f-]{36}: .*key=taken\/exists\.wav/);
    expect(done.Outputs![1]!.Status).toBe('Complete');
    expect((await getObject(t, 'taken/exists.wav')).toString()).toBe('already here');
  });

  it('ends a job whose input is missing in Error 3001', async () => {
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/nothing-here.mp3' },
        Outputs: [{ Key: 'missing/a.wav', PresetId: SeedPresets.wav }],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Error');
    expect(done.Outputs![0]!.StatusDetail).toMatch(/^3001 [0-9a-f-]{36}: The specified object does not exist/);
    const waited = await errorOf(waitForJob(Job!.Id!));
    expect(waited.message).toContain('FAILURE');
  });

  it('ends a job whose output bucket does not exist in Error 3005', async () => {
    const { Pipeline } = await svc.client.send(
      new CreatePipelineCommand({
        Name: 'no-bucket',
        InputBucket: t.bucket,
        OutputBucket: 'no-such-output-bucket',
        Role: ROLE,
      }),
    );
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: Pipeline!.Id,
        Input: { Key: 'media/song.mp3' },
        Outputs: [{ Key: 'x.wav', PresetId: SeedPresets.wav }],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Error');
    expect(done.Outputs![0]!.StatusDetail).toMatch(
      /^3005 [0-9a-f-]{36}: The specified bucket does not exist: bucket=no-such-output-bucket\.$/,
    );
  });

  it('notes on a Complete output where it departs from its preset', async () => {
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/song.mp3' },
        Outputs: [{ Key: 'remarks/song-720p.mp4', PresetId: '1351620000001-000010' }],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Outputs![0]).toMatchObject({
      Status: 'Complete',
      StatusDetail: expect.stringContaining('The input has no video'),
    });
  });

  it('ends a job with a corrupt input in Error with a readable detail, and the worker goes on', async () => {
    await putObject(t, 'media/garbage.mp3', Buffer.from('this is not media at all '.repeat(200)));
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/garbage.mp3' },
        Outputs: [{ Key: 'corrupt/a.wav', PresetId: SeedPresets.wav }],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Error');
    expect(done.Outputs![0]!.StatusDetail).toMatch(
      /^4000 [0-9a-f-]{36}: Amazon Elastic Transcoder could not interpret the media file: it is not an audio or video file the service can read\.$/,
    );

    const { Job: next } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/song.mp3' },
        Outputs: [{ Key: 'corrupt/after.wav', PresetId: SeedPresets.wav }],
      }),
    );
    expect((await finalJob(next!.Id!)).Status).toBe('Complete');
  });

  it('lists jobs by pipeline and by status, newest first unless Ascending', async () => {
    const desc = await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }));
    const ids = desc.Jobs!.map((j) => j.Id!);
    expect(ids.length).toBeGreaterThan(3);
    expect([...ids].sort().reverse()).toEqual(ids);
    const asc = await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId, Ascending: 'true' }));
    expect(asc.Jobs!.map((j) => j.Id)).toEqual([...ids].reverse());
    let all = 0;
    for await (const page of paginateListJobsByPipeline({ client: svc.client }, { PipelineId: pipelineId }))
      all += page.Jobs!.length;
    expect(all).toBe(ids.length);
    const errors = await svc.client.send(new ListJobsByStatusCommand({ Status: 'Error' }));
    expect(errors.Jobs!.every((j) => j.Status === 'Error')).toBe(true);
    expect(errors.Jobs!.length).toBeGreaterThanOrEqual(3);
  });

  it('shows progress (extension) in the raw ReadJob body', async () => {
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/song.mp3' },
        Outputs: [{ Key: 'progress/a.wav', PresetId: SeedPresets.wav }],
      }),
    );
    await finalJob(Job!.Id!);
    const res = await signedFetch(svc.url, 'GET', `/2012-09-25/jobs/${Job!.Id}`);
    const body = (await res.json()) as { Job: { progress: number; Status: string } };
    expect(body.Job).toMatchObject({ Status: 'Complete', progress: 100 });
  });
});

describe('CreateJob validation', () => {
  const base = { PipelineId: '', Input: { Key: 'media/song.mp3' } };
  const send = (input: Record<string, unknown>) =>
    svc.client.send(new CreateJobCommand({ ...base, PipelineId: pipelineId, ...input } as never));

  it('answers an unknown preset with ResourceNotFoundException', async () => {
    const err = await errorOf(send({ Outputs: [{ Key: 'x.wav', PresetId: '1351620000001-999999' }] }));
    expect(err.name).toBe('ResourceNotFoundException');
    expect(err.message).toBe(
      'The specified preset was not found: account=123456789012, presetId=1351620000001-999999.',
    );
  });

  it('answers an unknown pipeline with ResourceNotFoundException', async () => {
    const err = await errorOf(
      send({ PipelineId: '1111111111111-abcdef', Outputs: [{ Key: 'x.wav', PresetId: SeedPresets.wav }] }),
    );
    expect(err.name).toBe('ResourceNotFoundException');
  });

  it('refuses more than 30 outputs', async () => {
    const outputs = Array.from({ length: 31 }, (_, i) => ({ Key: `many/${i}.wav`, PresetId: SeedPresets.wav }));
    const err = await errorOf(send({ Outputs: outputs }));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain(
      "at 'outputs' failed to satisfy constraint: Member must have length less than or equal to 30",
    );
  });

  it('refuses two outputs with one key', async () => {
    const err = await errorOf(
      send({
        Outputs: [
          { Key: 'same.wav', PresetId: SeedPresets.wav },
          { Key: 'same.wav', PresetId: SeedPresets.flac },
        ],
      }),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain("the key 'same.wav' appears more than once");
  });

  it('refuses wrong types and bad patterns, naming the member', async () => {
    const typed = await errorOf(send({ Outputs: [{ Key: 'a.wav', PresetId: 42 }] }));
    expect(typed.name).toBe('ValidationException');
    expect(typed.message).toContain("at 'outputs.1.member.presetId'");
    const pattern = await errorOf(send({ Outputs: [{ Key: 'a.wav', PresetId: 'wav' }] }));
    expect(pattern.message).toContain(
      "Value 'wav' at 'outputs.1.member.presetId' failed to satisfy constraint: Member must satisfy regular expression pattern",
    );
    const missing = await errorOf(send({ Input: undefined, Outputs: [{ Key: 'a.wav', PresetId: SeedPresets.wav }] }));
    expect(missing.message).toContain("at 'input'");
  });

  it('refuses settings it cannot honour instead of ignoring them', async () => {
    const encrypted = await errorOf(
      send({ Outputs: [{ Key: 'enc.wav', PresetId: SeedPresets.wav, Encryption: { Mode: 's3' } }] }),
    );
    expect(encrypted.name).toBe('ValidationException');
    expect(encrypted.message).toBe(
      '[Outputs:1:Encryption is not supported by this engine yet; submit the job without it.]',
    );
    const clip = await errorOf(
      send({
        Input: { Key: 'media/song.mp3', TimeSpan: { StartTime: '1' } },
        Outputs: [{ Key: 'clip.wav', PresetId: SeedPresets.wav }],
      }),
    );
    expect(clip.message).toContain('Input:TimeSpan');
  });
});
