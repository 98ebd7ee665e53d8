// Playlists through the Elastic Transcoder SDK: an HLSv3 ladder as AWS's own samples send it, and the
// service's rules for segmented outputs and playlists.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  CreateJobCommand,
  CreatePipelineCommand,
  ListJobsByPipelineCommand,
  ReadJobCommand,
  type CreateJobOutput,
  type CreateJobPlaylist,
  type Job,
} from '@aws-sdk/client-elastic-transcoder';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createTestEnv, eventually, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import { ROLE, errorOf, getObject, putObject, startApi, type RunningApi } from './support';

const execFileAsync = promisify(execFile);

let t: TestEnv;
let svc: RunningApi;
let worker: TranscoderWorker;
let tmp: string;
let pipelineId: string;

beforeAll(async () => {
  t = await createTestEnv();
  svc = await startApi(t);
  worker = await startWorker(svc.config);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'et-playlists-'));
  const clip = await generateMedia('mp4', path.join(tmp, 'clip.mp4'), { seconds: 5, width: 1280, height: 720 });
  await putObject(t, 'media/clip.mp4', await readFile(clip));
  const { Pipeline } = await svc.client.send(new CreatePipelineCommand({ Name: 'hls', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }));
  pipelineId = Pipeline!.Id!;
});
afterAll(async () => {
  await worker?.close();
  await svc?.close();
  await t?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function finalJob(id: string): Promise<Job> {
  return eventually(
    async () => {
      const { Job } = await svc.client.send(new ReadJobCommand({ Id: id }));
      return ['Complete', 'Error', 'Canceled'].includes(Job!.Status!) ? Job : undefined;
    },
    { timeoutMs: 150_000, intervalMs: 250 },
  );
}

async function keysUnder(prefix: string): Promise<string[]> {
  const page = await t.s3Client.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

// The five HLS video presets, 2M to 400k, and HLS Audio 64k (as AWS's HLS samples send them).
const LADDER = [
  ['hls_2m', '1351620000001-200015'],
  ['hls_1_5m', '1351620000001-200025'],
  ['hls_1m', '1351620000001-200035'],
  ['hls_600k', '1351620000001-200045'],
  ['hls_400k', '1351620000001-200055'],
  ['hls_audio_64k', '1351620000001-200071'],
] as const;

describe('an HLSv3 ladder of six outputs under one playlist', () => {
  it('writes what the service wrote, reports the playlist Complete, and plays as one stream', async () => {
    const prefix = 'hls/clip/';
    const outputs: CreateJobOutput[] = LADDER.map(([Key, PresetId]) => ({ Key, PresetId, SegmentDuration: '2' }));
    const playlists: CreateJobPlaylist[] = [{ Name: 'index', Format: 'HLSv3', OutputKeys: LADDER.map(([k]) => k) }];
    const { Job: created } = await svc.client.send(new CreateJobCommand({ PipelineId: pipelineId, Input: { Key: 'media/clip.mp4' }, OutputKeyPrefix: prefix, Outputs: outputs, Playlists: playlists }));
    expect(created!.Playlists).toEqual([{ Name: 'index', Format: 'HLSv3', OutputKeys: LADDER.map(([k]) => k), Status: 'Submitted' }]);
    expect(created!.Outputs!.map((o) => o.SegmentDuration)).toEqual(LADDER.map(() => '2'));

    const done = await finalJob(created!.Id!);
    expect(done.Status).toBe('Complete');
    expect(done.Playlists).toEqual([{ Name: 'index', Format: 'HLSv3', OutputKeys: LADDER.map(([k]) => k), Status: 'Complete' }]);
    const listed = await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }));
    expect(listed.Jobs!.find((j) => j.Id === done.Id)!.Playlists![0]!.Status).toBe('Complete');

    // <Key>.m3u8 and <Key>00000.ts … per output (5 s in 2 s segments: three), and index.m3u8.
    const keys = await keysUnder(prefix);
    const expected = [`${prefix}index.m3u8`, ...LADDER.flatMap(([k]) => [`${prefix}${k}.m3u8`, `${prefix}${k}00000.ts`, `${prefix}${k}00001.ts`, `${prefix}${k}00002.ts`])];
    expect(keys).toEqual(expected.sort());

    // As a player opens it: ffprobe reads the master (hls demuxer) and finds all six renditions.
    const local = path.join(tmp, 'cdn');
    for (const key of keys) {
      await mkdir(path.dirname(path.join(local, key)), { recursive: true });
      await writeFile(path.join(local, key), await getObject(t, key));
    }
    const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-show_entries', 'program=program_id:stream=codec_type,width,height', '-of', 'json', path.join(local, prefix, 'index.m3u8')]);
    const probed = JSON.parse(stdout) as { programs: unknown[]; streams: Array<{ codec_type: string; width?: number; height?: number }> };
    expect(probed.programs).toHaveLength(6);
    const sizes = [...new Set(probed.streams.filter((s) => s.codec_type === 'video').map((s) => `${s.width}x${s.height}`))].sort();
    // Each rendition within its preset's box, at the input's 16:9.
    expect(sizes).toEqual(['1024x576', '400x226', '480x270', '640x360', '960x540']);
    expect(probed.streams.filter((s) => s.codec_type === 'audio').length).toBeGreaterThanOrEqual(1);
  });
});

describe('CreateJob refuses what the service refused about segments and playlists, and records nothing', () => {
  const hls = (Key: string, SegmentDuration = '2', PresetId = '1351620000001-200055') => ({ Key, PresetId, SegmentDuration });
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a segment duration of 0', { Outputs: [hls('a', '0')] }, /Value '0' at 'outputs\.1\.member\.segmentDuration' failed to satisfy constraint: Member must be between 1 and 60 seconds/],
    ['a segment duration of 61', { Outputs: [hls('a', '61')] }, /at 'outputs\.1\.member\.segmentDuration' failed to satisfy constraint: Member must be between 1 and 60 seconds/],
    ['a segment duration that is not a number', { Outputs: [hls('a', 'ten')] }, /at 'outputs\.1\.member\.segmentDuration' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ['a segment duration on an MP4 preset', { Outputs: [hls('a', '2', '1351620000001-000010')] }, /^\[Outputs:1:SegmentDuration applies to presets whose Container is ts or fmp4; preset 1351620000001-000010 has mp4\.\]$/],
    ['a key too long once segment numbers are added', { Outputs: [hls('k'.repeat(250))] }, /at 'outputs\.1\.member\.key' failed to satisfy constraint: Key plus the segment number and extension \(00000\.ts\) must have length less than or equal to 255/],
    ['a playlist naming an output that is not in the job', { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a', 'b'] }] }, /^\[Playlists:1:OutputKeys: 'b' is not the Key of an output of this job\.\]$/],
    ['a playlist of outputs with different segment durations', { Outputs: [hls('a', '2'), hls('b', '4')], Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a', 'b'] }] }, /^\[Playlists:1: all the outputs of a playlist must have the same SegmentDuration\.\]$/],
    ['a playlist with an unsegmented output', { Outputs: [hls('a'), { Key: 'b', PresetId: '1351620000001-200055' }], Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a', 'b'] }] }, /^\[Playlists:1:OutputKeys: 'b' must have a SegmentDuration and a preset whose Container is ts to be in an HLSv3 playlist\.\]$/],
    ['output keys that do not begin like the playlist name', { Outputs: [hls('a')], Playlists: [{ Name: 'hls/index', Format: 'HLSv3', OutputKeys: ['a'] }] }, /^\[Playlists:1:OutputKeys: 'a' must begin like the playlist's name, with 'hls\/'\.\]$/],
    ['playlist names in different folders', { Outputs: [hls('x/a'), hls('y/b')], Playlists: [{ Name: 'x/one', Format: 'HLSv3', OutputKeys: ['x/a'] }, { Name: 'y/two', Format: 'HLSv3', OutputKeys: ['y/b'] }] }, /^\[Playlists:2:Name: the part of every playlist name before its last \/ must be the same/],
    ['two playlists of one name', { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a'] }, { Name: 'index', Format: 'HLSv3', OutputKeys: ['a'] }] }, /^\[Playlists must have unique names: the name 'index' appears more than once \(Playlists:2\)\.\]$/],
    ['a format that is not one of the four', { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'HLSv5', OutputKeys: ['a'] }] }, /at 'playlists\.1\.member\.format' failed to satisfy constraint: Member must satisfy enum value set/],
    ['an HLSv4 playlist, not made by this engine yet', { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'HLSv4', OutputKeys: ['a'] }] }, /^\[Playlists:1:Format HLSv4 is not supported by this engine yet; use HLSv3\.\]$/],
    ['HLS content protection, not made by this engine yet', { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a'], HlsContentProtection: { Method: 'aes-128' } }] }, /^\[Playlists:1:HlsContentProtection is not supported by this engine yet/],
    ['more than 30 playlists', { Outputs: [hls('a')], Playlists: Array.from({ length: 31 }, (_, i) => ({ Name: `p${i}`, Format: 'HLSv3', OutputKeys: ['a'] })) }, /at 'playlists' failed to satisfy constraint: Member must have length less than or equal to 30/],
  ];

  it.each(cases)('%s', async (_name, body, message) => {
    const before = (await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }))).Jobs!.length;
    const err = await errorOf(svc.client.send(new CreateJobCommand({ PipelineId: pipelineId, Input: { Key: 'media/clip.mp4' }, ...body } as never)));
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toMatch(message);
    expect((await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }))).Jobs!.length).toBe(before);
  });
});
