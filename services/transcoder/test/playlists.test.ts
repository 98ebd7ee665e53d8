// Playlists through the Elastic Transcoder SDK: an HLSv3 ladder as AWS's own samples send it, and the
// service's rules for segmented outputs and playlists.
import { execFile } from 'node:child_process';
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  CreateJobCommand,
  CreatePipelineCommand,
  ListJobsByPipelineCommand,
  type CreateJobOutput,
  type CreateJobPlaylist,
} from '@aws-sdk/client-elastic-transcoder';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { parseMediaPlaylist } from '../src/engine/hls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import { ROLE, errorOf, getObject, putObject, startApi, type RunningApi, finalJob as finalJobOf } from './support';

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
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({ Name: 'hls', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
  );
  pipelineId = Pipeline!.Id!;
});
afterAll(async () => {
  await worker?.close();
  await svc?.close();
  await t?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const finalJob = (id: string) => finalJobOf(svc.client, id, 150_000);

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
    const { Job: created } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/clip.mp4' },
        OutputKeyPrefix: prefix,
        Outputs: outputs,
        Playlists: playlists,
      }),
    );
    expect(created!.Playlists).toEqual([
      { Name: 'index', Format: 'HLSv3', OutputKeys: LADDER.map(([k]) => k), Status: 'Submitted' },
    ]);
    expect(created!.Outputs!.map((o) => o.SegmentDuration)).toEqual(LADDER.map(() => '2'));

    const done = await finalJob(created!.Id!);
    expect(done.Status).toBe('Complete');
    expect(done.Playlists).toEqual([
      { Name: 'index', Format: 'HLSv3', OutputKeys: LADDER.map(([k]) => k), Status: 'Complete' },
    ]);
    const listed = await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }));
    expect(listed.Jobs!.find((j) => j.Id === done.Id)!.Playlists![0]!.Status).toBe('Complete');

    // <Key>.m3u8 and <Key>00000.ts … per output (5 s in 2 s segments: three), and index.m3u8.
    const keys = await keysUnder(prefix);
    const expected = [
      `${prefix}index.m3u8`,
      ...LADDER.flatMap(([k]) => [
        `${prefix}${k}.m3u8`,
        `${prefix}${k}00000.ts`,
        `${prefix}${k}00001.ts`,
        `${prefix}${k}00002.ts`,
      ]),
    ];
    expect(keys).toEqual(expected.sort());

    // As a player opens it: ffprobe reads the master (hls demuxer) and finds all six renditions.
    const local = path.join(tmp, 'cdn');
    for (const key of keys) {
      await mkdir(path.dirname(path.join(local, key)), { recursive: true });
      await writeFile(path.join(local, key), await getObject(t, key));
    }
    const { stdout } = await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'program=program_id:stream=codec_type,width,height',
      '-of',
      'json',
      path.join(local, prefix, 'index.m3u8'),
    ]);
    const probed = JSON.parse(stdout) as {
      programs: unknown[];
      streams: Array<{ codec_type: string; width?: number; height?: number }>;
    };
    expect(probed.programs).toHaveLength(6);
    const sizes = [
      ...new Set(probed.streams.filter((s) => s.codec_type === 'video').map((s) => `${s.width}x${s.height}`)),
    ].sort();
    // Each rendition within its preset's box, at the input's 16:9.
    expect(sizes).toEqual(['1024x576', '400x226', '480x270', '640x360', '960x540']);
    expect(probed.streams.filter((s) => s.codec_type === 'audio').length).toBeGreaterThanOrEqual(1);
  });
});

describe('an HLSv4 pair (HLS Video 400k and HLS Audio 64k)', () => {
  it('writes <Key>.ts, <Key>_v4.m3u8 of byte ranges, <Key>_iframe.m3u8 for video, and a master with an audio group', async () => {
    const prefix = 'hlsv4/clip/';
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/clip.mp4' },
        OutputKeyPrefix: prefix,
        Outputs: [
          { Key: 'hls_video_400k', PresetId: '1351620000001-200055', SegmentDuration: '2' },
          { Key: 'hls_audio_64k', PresetId: '1351620000001-200071', SegmentDuration: '2' },
        ],
        Playlists: [{ Name: 'index', Format: 'HLSv4', OutputKeys: ['hls_video_400k', 'hls_audio_64k'] }],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Complete');
    expect(done.Playlists![0]!.Status).toBe('Complete');
    expect(await keysUnder(prefix)).toEqual(
      [
        'hls_audio_64k.ts',
        'hls_audio_64k_v4.m3u8',
        'hls_video_400k.ts',
        'hls_video_400k_iframe.m3u8',
        'hls_video_400k_v4.m3u8',
        'index.m3u8',
      ].map((k) => prefix + k),
    );

    const master = (await getObject(t, `${prefix}index.m3u8`)).toString();
    expect(master).toContain('#EXT-X-VERSION:4\n');
    expect(master).toContain(
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="hls_audio_64k",AUTOSELECT=YES,DEFAULT=YES,URI="hls_audio_64k_v4.m3u8"\n',
    );
    expect(master).toMatch(
      /#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,RESOLUTION=400x226,FRAME-RATE=25\.000,CODECS="avc1\.42e01e,mp4a\.40\.2",AUDIO="audio"\nhls_video_400k_v4\.m3u8\n/,
    );
    expect(master).toMatch(
      /#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=\d+,RESOLUTION=400x226,CODECS="avc1\.42e01e",URI="hls_video_400k_iframe\.m3u8"\n/,
    );

    // The media playlist's byte ranges cover the one file, segment after segment.
    const media = parseMediaPlaylist((await getObject(t, `${prefix}hls_video_400k_v4.m3u8`)).toString());
    const file = await getObject(t, `${prefix}hls_video_400k.ts`);
    expect(media.map((m) => m.file)).toEqual(media.map(() => 'hls_video_400k.ts'));
    expect(media[0]!.range!.offset).toBe(0);
    for (let n = 1; n < media.length; n++)
      expect(media[n]!.range!.offset).toBe(media[n - 1]!.range!.offset + media[n - 1]!.range!.length);
    expect(media.at(-1)!.range!.offset + media.at(-1)!.range!.length).toBe(file.length);

    // One I-frame per segment (keyframes on the boundaries), each starting on a TS packet of the file.
    const iframes = (await getObject(t, `${prefix}hls_video_400k_iframe.m3u8`)).toString();
    expect(iframes).toContain('#EXT-X-I-FRAMES-ONLY\n');
    const ranges = [...iframes.matchAll(/#EXT-X-BYTERANGE:(\d+)@(\d+)/g)].map((m) => ({
      length: Number(m[1]),
      offset: Number(m[2]),
    }));
    expect(ranges).toHaveLength(media.length);
    for (const r of ranges) {
      expect(file[r.offset]).toBe(0x47);
      expect(r.length).toBeGreaterThan(188);
    }

    // A player's view: the video rendition plays with the audio of the group.
    const local = path.join(tmp, 'hlsv4');
    for (const key of await keysUnder(prefix)) {
      await mkdir(path.dirname(path.join(local, key)), { recursive: true });
      await writeFile(path.join(local, key), await getObject(t, key));
    }
    const { stdout } = await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_type',
      '-of',
      'json',
      path.join(local, prefix, 'index.m3u8'),
    ]);
    const types = (JSON.parse(stdout) as { streams: Array<{ codec_type: string }> }).streams
      .map((s) => s.codec_type)
      .sort();
    expect(types).toEqual(['audio', 'video']);
  });
});

describe('an MPEG-DASH pair (MPEG-Dash Video 1.2M and Audio 128k)', () => {
  it('writes one fragmented MP4 per output with a segment index, and an on-demand manifest a player opens', async () => {
    const prefix = 'dash/clip/';
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/clip.mp4' },
        OutputKeyPrefix: prefix,
        Outputs: [
          { Key: 'video_1200k', PresetId: '1351620000001-500040', SegmentDuration: '2' },
          { Key: 'audio_128k', PresetId: '1351620000001-500060', SegmentDuration: '2' },
        ],
        Playlists: [{ Name: 'index', Format: 'MPEG-DASH', OutputKeys: ['video_1200k', 'audio_128k'] }],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Complete');
    expect(done.Playlists).toEqual([
      { Name: 'index', Format: 'MPEG-DASH', OutputKeys: ['video_1200k', 'audio_128k'], Status: 'Complete' },
    ]);
    expect(await keysUnder(prefix)).toEqual([`${prefix}audio_128k`, `${prefix}index.mpd`, `${prefix}video_1200k`]);

    const mpd = (await getObject(t, `${prefix}index.mpd`)).toString();
    expect(mpd).toContain('profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static"');
    const reps = [
      ...mpd.matchAll(
        /<Representation ([^>]*)>\s*<BaseURL>([^<]+)<\/BaseURL>\s*<SegmentBase indexRange="(\d+)-(\d+)"><Initialization range="0-(\d+)"\/>/g,
      ),
    ];
    expect(reps.map((r) => r[2])).toEqual(['video_1200k', 'audio_128k']);
    expect(reps[0]![1]).toMatch(/codecs="avc1\.4d401e" width="640" height="360" frameRate="30000\/1000"/);
    expect(reps[1]![1]).toMatch(/codecs="mp4a\.40\.2" audioSamplingRate="48000"/);
    for (const r of reps) {
      const file = await getObject(t, `${prefix}${r[2]}`);
      // The index range is the file's sidx, right after its header (the initialization range).
      expect(file.toString('latin1', Number(r[3]) + 4, Number(r[3]) + 8)).toBe('sidx');
      expect(Number(r[3])).toBe(Number(r[5]) + 1);
      expect(file.readUInt32BE(Number(r[3]))).toBe(Number(r[4]) - Number(r[3]) + 1);
    }

    // A player's view: ffprobe's dash demuxer opens the manifest and finds both streams.
    const local = path.join(tmp, 'dash');
    for (const key of await keysUnder(prefix)) {
      await mkdir(path.dirname(path.join(local, key)), { recursive: true });
      await writeFile(path.join(local, key), await getObject(t, key));
    }
    // The service named DASH outputs by their keys alone, without an extension: ffmpeg's own check of extensions is
    // off here.
    const { stdout } = await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-allowed_extensions',
      'ALL',
      '-show_entries',
      'stream=codec_name',
      '-of',
      'json',
      path.join(local, prefix, 'index.mpd'),
    ]);
    expect(
      (JSON.parse(stdout) as { streams: Array<{ codec_name: string }> }).streams.map((s) => s.codec_name).sort(),
    ).toEqual(['aac', 'h264']);
  });
});

describe('a Smooth pair (Smooth 800k and 600k)', () => {
  it('writes one ismv per output, the server manifest <Name>.ism and the client manifest <Name>.ismc', async () => {
    const prefix = 'smooth/clip/';
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/clip.mp4' },
        OutputKeyPrefix: prefix,
        Outputs: [
          { Key: 's800k', PresetId: '1351620000001-400050', SegmentDuration: '2' },
          { Key: 's600k', PresetId: '1351620000001-400060', SegmentDuration: '2' },
        ],
        Playlists: [{ Name: 'index', Format: 'Smooth', OutputKeys: ['s800k', 's600k'] }],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Complete');
    expect(done.Playlists![0]!.Status).toBe('Complete');
    expect(await keysUnder(prefix)).toEqual([
      `${prefix}index.ism`,
      `${prefix}index.ismc`,
      `${prefix}s600k`,
      `${prefix}s800k`,
    ]);

    const ism = (await getObject(t, `${prefix}index.ism`)).toString();
    expect(ism).toContain('<meta name="clientManifestRelativePath" content="index.ismc"/>');
    const entries = [
      ...ism.matchAll(/<(video|audio) src="([^"]+)" systemBitrate="(\d+)">\s*<param name="trackID" value="(\d+)"/g),
    ].map((m) => [m[1], m[2], m[4]]);
    expect(entries).toEqual([
      ['video', 's800k', '1'],
      ['video', 's600k', '1'],
      ['audio', 's800k', '2'],
    ]);

    const ismc = (await getObject(t, `${prefix}index.ismc`)).toString();
    const video = /<StreamIndex Type="video"[^>]*Chunks="(\d+)" QualityLevels="2"[^>]*>([\s\S]*?)<\/StreamIndex>/.exec(
      ismc,
    )!;
    const audio = /<StreamIndex Type="audio"[^>]*QualityLevels="1"[^>]*>([\s\S]*?)<\/StreamIndex>/.exec(ismc)!;
    expect(video).not.toBeNull();
    expect(audio).not.toBeNull();
    expect([
      ...video[2]!.matchAll(/FourCC="H264"[^>]*CodecPrivateData="(00000001 ?67[0-9A-F]+00000001 ?68[0-9A-F]+)"/g),
    ]).toHaveLength(2);
    // AAC-LC's AudioSpecificConfig (1210: 44.1 kHz stereo), with the SBR extension signalled after it.
    expect(audio[1]).toMatch(/FourCC="AACL" SamplingRate="44100" Channels="2"[^>]*CodecPrivateData="1210[0-9A-F]*"/);
    const audioChunks = [...audio[1]!.matchAll(/<c t="(\d+)" d="(\d+)"\/>/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(audioChunks[0]![0]).toBe(0);
    for (let n = 1; n < audioChunks.length; n++)
      expect(audioChunks[n]![0]).toBe(audioChunks[n - 1]![0]! + audioChunks[n - 1]![1]!);
    // 5 s in fragments of 2 s, back to back, in 100 ns units.
    const chunks = [...video[2]!.matchAll(/<c t="(\d+)" d="(\d+)"\/>/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(chunks.length).toBe(Number(video[1]));
    expect(chunks.slice(0, 2).map(([, d]) => d)).toEqual([20_000_000, 20_000_000]);
    for (let n = 1; n < chunks.length; n++) expect(chunks[n]![0]).toBe(chunks[n - 1]![0]! + chunks[n - 1]![1]!);

    // Each output is an MP4 ffprobe reads, with its video and its audio.
    const file = path.join(tmp, 's800k.ismv');
    await writeFile(file, await getObject(t, `${prefix}s800k`));
    const { stdout } = await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name',
      '-of',
      'json',
      file,
    ]);
    expect((JSON.parse(stdout) as { streams: Array<{ codec_name: string }> }).streams.map((s) => s.codec_name)).toEqual(
      ['h264', 'aac'],
    );
  });
});

describe('HLS content protection (aes-128)', () => {
  const pair = (dir: string): CreateJobOutput[] => [
    { Key: `${dir}/400k`, PresetId: '1351620000001-200055', SegmentDuration: '2' },
    { Key: `${dir}/audio`, PresetId: '1351620000001-200071', SegmentDuration: '2' },
  ];
  const decrypt = (data: Buffer, key: Buffer, iv: Buffer) => {
    const d = createDecipheriv('aes-128-cbc', key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  };

  it('encrypts every segment with the given key, stores the key beside the playlists, and names it in EXT-X-KEY', async () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const HlsContentProtection = {
      Method: 'aes-128',
      Key: key.toString('base64'),
      KeyMd5: createHash('md5').update(key).digest('base64'),
      InitializationVector: iv.toString('base64'),
      KeyStoragePolicy: 'WithVariantPlaylists',
    };
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/clip.mp4' },
        OutputKeyPrefix: 'aes/',
        Outputs: pair('secure'),
        Playlists: [
          { Name: 'secure/index', Format: 'HLSv3', OutputKeys: ['secure/400k', 'secure/audio'], HlsContentProtection },
        ],
      }),
    );
    const done = await finalJob(Job!.Id!);
    expect(done.Status).toBe('Complete');
    expect(done.Playlists![0]).toMatchObject({ Status: 'Complete', HlsContentProtection });

    expect(await getObject(t, 'aes/secure/index.key')).toEqual(key);
    for (const name of ['400k', 'audio']) {
      const media = (await getObject(t, `aes/secure/${name}.m3u8`)).toString();
      expect(media).toContain(`#EXT-X-KEY:METHOD=AES-128,URI="index.key",IV=0x${iv.toString('hex')}\n`);
      const segment = await getObject(t, `aes/secure/${name}00000.ts`);
      expect(segment[0]).not.toBe(0x47);
      const clear = decrypt(segment, key, iv);
      expect(clear[0]).toBe(0x47); // an MPEG-TS sync byte every 188 bytes
      expect(clear[188]).toBe(0x47);
    }

    // A player with the key (ffprobe's hls demuxer fetches index.key beside the playlists) reads both renditions.
    const local = path.join(tmp, 'aes');
    for (const k of await keysUnder('aes/')) {
      await mkdir(path.dirname(path.join(local, k)), { recursive: true });
      await writeFile(path.join(local, k), await getObject(t, k));
    }
    const { stdout } = await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-allowed_extensions',
      'ALL',
      '-show_entries',
      'program=program_id',
      '-of',
      'json',
      path.join(local, 'aes/secure/index.m3u8'),
    ]);
    expect((JSON.parse(stdout) as { programs: unknown[] }).programs).toHaveLength(2);
  });

  it('generates a key when none is given: left out of the CreateJob answer, shown by ReadJob, named by the LicenseAcquisitionUrl', async () => {
    const HlsContentProtection = {
      Method: 'aes-128',
      KeyStoragePolicy: 'NoStore',
      LicenseAcquisitionUrl: 'https://keys.example.com/job-key',
    };
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'media/clip.mp4' },
        OutputKeyPrefix: 'aes-gen/',
        Outputs: pair('p'),
        Playlists: [{ Name: 'p/index', Format: 'HLSv3', OutputKeys: ['p/400k', 'p/audio'], HlsContentProtection }],
      }),
    );
    expect(Job!.Playlists![0]!.HlsContentProtection).toEqual(HlsContentProtection);
    const done = await finalJob(Job!.Id!);
    const cp = done.Playlists![0]!.HlsContentProtection!;
    const key = Buffer.from(cp.Key!, 'base64');
    const iv = Buffer.from(cp.InitializationVector!, 'base64');
    expect(key).toHaveLength(16);
    expect(cp.KeyMd5).toBe(createHash('md5').update(key).digest('base64'));
    const media = (await getObject(t, 'aes-gen/p/400k.m3u8')).toString();
    expect(media).toContain(
      `#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/job-key",IV=0x${iv.toString('hex')}\n`,
    );
    expect(decrypt(await getObject(t, 'aes-gen/p/400k00000.ts'), key, iv)[0]).toBe(0x47);
    // NoStore: the key is nowhere in the bucket.
    expect((await keysUnder('aes-gen/')).filter((k) => k.endsWith('.key'))).toEqual([]);
  });
});

describe('CreateJob refuses what the service refused about segments and playlists, and records nothing', () => {
  const hls = (Key: string, SegmentDuration = '2', PresetId = '1351620000001-200055') => ({
    Key,
    PresetId,
    SegmentDuration,
  });
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'a segment duration of 0',
      { Outputs: [hls('a', '0')] },
      /Value '0' at 'outputs\.1\.member\.segmentDuration' failed to satisfy constraint: Member must be between 1 and 60 seconds/,
    ],
    [
      'a segment duration of 61',
      { Outputs: [hls('a', '61')] },
      /at 'outputs\.1\.member\.segmentDuration' failed to satisfy constraint: Member must be between 1 and 60 seconds/,
    ],
    [
      'a segment duration that is not a number',
      { Outputs: [hls('a', 'ten')] },
      /at 'outputs\.1\.member\.segmentDuration' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    ],
    [
      'a segment duration on an MP4 preset',
      { Outputs: [hls('a', '2', '1351620000001-000010')] },
      /^\[Outputs:1:SegmentDuration applies to presets whose Container is ts or fmp4; preset 1351620000001-000010 has mp4\.\]$/,
    ],
    [
      'a key too long once segment numbers are added',
      { Outputs: [hls('k'.repeat(250))] },
      /at 'outputs\.1\.member\.key' failed to satisfy constraint: Key plus the segment number and extension \(00000\.ts\) must have length less than or equal to 255/,
    ],
    [
      'a playlist naming an output that is not in the job',
      { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a', 'b'] }] },
      /^\[Playlists:1:OutputKeys: 'b' is not the Key of an output of this job\.\]$/,
    ],
    [
      'a playlist of outputs with different segment durations',
      {
        Outputs: [hls('a', '2'), hls('b', '4')],
        Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a', 'b'] }],
      },
      /^\[Playlists:1: all the outputs of a playlist must have the same SegmentDuration\.\]$/,
    ],
    [
      'a playlist with an unsegmented output',
      {
        Outputs: [hls('a'), { Key: 'b', PresetId: '1351620000001-200055' }],
        Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a', 'b'] }],
      },
      /^\[Playlists:1:OutputKeys: 'b' must have a SegmentDuration and a preset whose Container is ts to be in an HLSv3 playlist\.\]$/,
    ],
    [
      'output keys that do not begin like the playlist name',
      { Outputs: [hls('a')], Playlists: [{ Name: 'hls/index', Format: 'HLSv3', OutputKeys: ['a'] }] },
      /^\[Playlists:1:OutputKeys: 'a' must begin like the playlist's name, with 'hls\/'\.\]$/,
    ],
    [
      'playlist names in different folders',
      {
        Outputs: [hls('x/a'), hls('y/b')],
        Playlists: [
          { Name: 'x/one', Format: 'HLSv3', OutputKeys: ['x/a'] },
          { Name: 'y/two', Format: 'HLSv3', OutputKeys: ['y/b'] },
        ],
      },
      /^\[Playlists:2:Name: the part of every playlist name before its last \/ must be the same/,
    ],
    [
      'two playlists of one name',
      {
        Outputs: [hls('a')],
        Playlists: [
          { Name: 'index', Format: 'HLSv3', OutputKeys: ['a'] },
          { Name: 'index', Format: 'HLSv3', OutputKeys: ['a'] },
        ],
      },
      /^\[Playlists must have unique names: the name 'index' appears more than once \(Playlists:2\)\.\]$/,
    ],
    [
      'a format that is not one of the four',
      { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'HLSv5', OutputKeys: ['a'] }] },
      /at 'playlists\.1\.member\.format' failed to satisfy constraint: Member must satisfy enum value set/,
    ],
    [
      'a Smooth playlist of ts outputs',
      { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'Smooth', OutputKeys: ['a'] }] },
      /^\[Playlists:1:OutputKeys: 'a' must have a SegmentDuration and a preset whose Container is fmp4 to be in an Smooth playlist\.\]$/,
    ],
    [
      'a Smooth playlist of outputs whose video profiles differ',
      {
        Outputs: [
          { Key: 'a', PresetId: '1351620000001-400050', SegmentDuration: '2' },
          { Key: 'b', PresetId: '1351620000001-500040', SegmentDuration: '2' },
        ],
        Playlists: [{ Name: 'index', Format: 'Smooth', OutputKeys: ['a', 'b'] }],
      },
      /^\[Playlists:1: the outputs of a Smooth playlist must have the same Video:Profile \(high, main\)\.\]$/,
    ],
    [
      'a DASH playlist of ts outputs',
      { Outputs: [hls('a')], Playlists: [{ Name: 'index', Format: 'MPEG-DASH', OutputKeys: ['a'] }] },
      /^\[Playlists:1:OutputKeys: 'a' must have a SegmentDuration and a preset whose Container is fmp4 to be in an MPEG-DASH playlist\.\]$/,
    ],
    [
      'an output in an HLSv3 and an HLSv4 playlist',
      {
        Outputs: [hls('a')],
        Playlists: [
          { Name: 'v3', Format: 'HLSv3', OutputKeys: ['a'] },
          { Name: 'v4', Format: 'HLSv4', OutputKeys: ['a'] },
        ],
      },
      /^\[Playlists:1:OutputKeys: 'a' is also in a playlist of another format \(Playlists:2: HLSv4\)\.\]$/,
    ],
    [
      'a content protection key that is not 128 bits',
      {
        Outputs: [hls('a')],
        Playlists: [
          {
            Name: 'index',
            Format: 'HLSv3',
            OutputKeys: ['a'],
            HlsContentProtection: {
              Key: Buffer.alloc(24).toString('base64'),
              KeyMd5: 'AAAAAAAAAAAAAAAAAAAAAA==',
              InitializationVector: Buffer.alloc(16).toString('base64'),
              KeyStoragePolicy: 'WithVariantPlaylists',
            },
          },
        ],
      },
      /at 'playlists\.1\.member\.hlsContentProtection\.key' failed to satisfy constraint: Member must be a base64-encoded 128-bit key for aes-128/,
    ],
    [
      'a key whose MD5 does not match',
      {
        Outputs: [hls('a')],
        Playlists: [
          {
            Name: 'index',
            Format: 'HLSv3',
            OutputKeys: ['a'],
            HlsContentProtection: {
              Key: Buffer.alloc(16, 1).toString('base64'),
              KeyMd5: Buffer.alloc(16).toString('base64'),
              InitializationVector: Buffer.alloc(16).toString('base64'),
              KeyStoragePolicy: 'WithVariantPlaylists',
            },
          },
        ],
      },
      /at 'playlists\.1\.member\.hlsContentProtection\.keyMd5' failed to satisfy constraint: Member must be the base64-encoded MD5 digest of the Key/,
    ],
    [
      'NoStore with no LicenseAcquisitionUrl',
      {
        Outputs: [hls('a')],
        Playlists: [
          {
            Name: 'index',
            Format: 'HLSv3',
            OutputKeys: ['a'],
            HlsContentProtection: { Method: 'aes-128', KeyStoragePolicy: 'NoStore' },
          },
        ],
      },
      /at 'playlists\.1\.member\.hlsContentProtection\.licenseAcquisitionUrl' failed to satisfy constraint: Member must be an absolute URL with the KeyStoragePolicy NoStore/,
    ],
    [
      'WithVariantPlaylists and a LicenseAcquisitionUrl',
      {
        Outputs: [hls('a')],
        Playlists: [
          {
            Name: 'index',
            Format: 'HLSv3',
            OutputKeys: ['a'],
            HlsContentProtection: {
              KeyStoragePolicy: 'WithVariantPlaylists',
              LicenseAcquisitionUrl: 'https://k.example.com/',
            },
          },
        ],
      },
      /Member must be blank with the KeyStoragePolicy WithVariantPlaylists/,
    ],
    [
      'PlayReady DRM, not made by this engine',
      {
        Outputs: [hls('a')],
        Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['a'], PlayReadyDrm: { Format: 'discretix-3.0' } }],
      },
      /^\[Playlists:1:PlayReadyDrm is not supported by this engine yet/,
    ],
    [
      'more than 30 playlists',
      {
        Outputs: [hls('a')],
        Playlists: Array.from({ length: 31 }, (_, i) => ({ Name: `p${i}`, Format: 'HLSv3', OutputKeys: ['a'] })),
      },
      /at 'playlists' failed to satisfy constraint: Member must have length less than or equal to 30/,
    ],
  ];

  it.each(cases)('%s', async (_name, body, message) => {
    const before = (await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }))).Jobs!.length;
    const err = await errorOf(
      svc.client.send(
        new CreateJobCommand({ PipelineId: pipelineId, Input: { Key: 'media/clip.mp4' }, ...body } as never),
      ),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toMatch(message);
    expect((await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }))).Jobs!.length).toBe(
      before,
    );
  });
});
