import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedPresets } from '@mp/contracts';
import { createS3Client } from '@mp/storage';
import { createTestEnv } from '@mp/testbed';
import type { TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { EngineError, runTranscode } from '../../src/engine/run';
import type { RunTranscodeInput } from '../../src/engine/run';
import { systemPreset } from '../../src/engine/system-presets';
import { entries, probeObject, putFile, scratchDir } from './helpers';

const preset = (id: string) => systemPreset(id, 'us-east-1', '000000000000')!;
const execFileAsync = promisify(execFile);

/** The decoded audio's MD5: equal for two files holding the same samples, whatever their headers. */
async function audioMd5(file: string): Promise<string> {
  const { stdout } = await execFileAsync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-f', 'md5', '-']);
  return stdout.trim();
}

/**
 * An ffmpeg that logs its role (decoder: writes decoded.nut; encoder: reads it; single: anything else) and
 * lets no encoder start work before `encoders` of them are running: encoders run one after another fail it.
 * `failDecoder` makes the decoder fail.
 */
async function fanOutFfmpeg(
  name: string,
  opts: { encoders: number; failDecoder?: boolean },
): Promise<{ path: string; roles: () => Promise<string[]> }> {
  const dir = path.join(work, name);
  await mkdir(path.join(dir, 'started'), { recursive: true });
  const log = path.join(dir, 'roles');
  const script = path.join(dir, 'ffmpeg.sh');
  await writeFile(
    script,
    `#!/bin/sh
case "$*" in
  *"-f nut -i"*) role=encoder ;;
  *decoded.nut) role=decoder ;;
  *) role=single ;;
esac
echo $role >> '${log}'
${
  opts.failDecoder
    ? `[ $role = decoder ] && exit 1
`
    : ''
}if [ $role = encoder ]; then
  touch '${dir}/started/'$$
  n=0
  while [ "$(ls '${dir}/started' | wc -l)" -lt ${opts.encoders} ]; do
    n=$((n + 1)); [ $n -gt 400 ] && exit 1
    sleep 0.05
  done
fi
exec ffmpeg "$@"
`,
  );
  await chmod(script, 0o755);
  return { path: script, roles: async () => (await readFile(log, 'utf8')).trim().split('\n') };
}

let t: TestEnv;
let work: string;
let tmpRoot: string;

beforeAll(async () => {
  t = await createTestEnv();
  work = await scratchDir('run');
  tmpRoot = await scratchDir('run-tmp');
  await putFile(
    t.s3Client,
    t.bucket,
    'in/song.mp3',
    await generateMedia('mp3', path.join(work, 'song.mp3'), { seconds: 3 }),
  );
  await putFile(
    t.s3Client,
    t.bucket,
    'in/clip.mp4',
    await generateMedia('mp4', path.join(work, 'clip.mp4'), { seconds: 2, width: 320, height: 240 }),
  );
  await writeFile(path.join(work, 'notes.txt'), 'This is not media.\n'.repeat(200));
  await putFile(t.s3Client, t.bucket, 'in/notes.txt', path.join(work, 'notes.txt'));
});

afterAll(async () => {
  await t?.cleanup();
});

function job(over: Partial<RunTranscodeInput>): RunTranscodeInput {
  return {
    s3: t.s3Client,
    inputBucket: t.bucket,
    inputKey: 'in/song.mp3',
    outputBucket: t.bucket,
    outputs: [],
    tmpRoot,
    ...over,
  };
}

describe('runTranscode', () => {
  it('makes the seed WAV, FLAC and AAC/MP4 outputs with one ffmpeg process', async () => {
    // A wrapper that counts invocations, then runs the real ffmpeg.
    const counter = path.join(work, 'ffmpeg-runs');
    const wrapper = path.join(work, 'ffmpeg-counting.sh');
    await writeFile(wrapper, `#!/bin/sh\necho run >> '${counter}'\nexec ffmpeg "$@"\n`);
    await chmod(wrapper, 0o755);
    const progress: number[] = [];

    const result = await runTranscode(
      job({
        outputs: [
          { key: 'seed/song.wav', preset: preset(SeedPresets.wav) },
          { key: 'seed/song.flac', preset: preset(SeedPresets.flac) },
          { key: 'seed/song.mp4', preset: preset(SeedPresets.aacMp4) },
        ],
        ffmpegPath: wrapper,
        onProgress: (p) => progress.push(p),
      }),
    );

    expect((await readFile(counter, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect(result.detected).toMatchObject({ FileSize: expect.any(Number), DurationMillis: expect.any(Number) });
    expect(Math.abs(result.detected.DurationMillis! - 3000)).toBeLessThan(100);
    for (const o of result.outputs) {
      expect(o).toMatchObject({ status: 'Complete', duration: 3, fileSize: expect.any(Number), thumbnailKeys: [] });
      expect(Math.abs(o.durationMillis! - 3000)).toBeLessThan(150);
      expect(o.width).toBeUndefined();
    }
    expect(progress.at(-1)).toBe(100);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    const wav = await probeObject(t.s3Client, t.bucket, 'seed/song.wav', work);
    expect(wav.contentType).toBe('audio/wav');
    expect(wav.probe.format.format_name).toBe('wav');
    expect(wav.probe.streams).toEqual([
      expect.objectContaining({ codec_name: 'pcm_s16le', sample_rate: '44100', channels: 2, bits_per_sample: 16 }),
    ]);

    const flac = await probeObject(t.s3Client, t.bucket, 'seed/song.flac', work);
    expect(flac.contentType).toBe('audio/flac');
    expect(flac.probe.format.format_name).toBe('flac');
    expect(flac.probe.streams).toEqual([
      expect.objectContaining({ codec_name: 'flac', sample_rate: '44100', channels: 2, sample_fmt: 's16' }),
    ]);

    const mp4 = await probeObject(t.s3Client, t.bucket, 'seed/song.mp4', work);
    expect(mp4.contentType).toBe('audio/mp4');
    expect(mp4.probe.format.format_name).toContain('mp4');
    expect(mp4.probe.streams).toEqual([
      expect.objectContaining({
        codec_type: 'audio',
        codec_name: 'aac',
        profile: 'LC',
        sample_rate: '44100',
        channels: 2,
      }),
    ]);
    const kbps = Number(mp4.probe.streams[0]!.bit_rate) / 1000;
    expect(kbps).toBeGreaterThan(200);
    expect(kbps).toBeLessThan(290);
    expect(await entries(tmpRoot)).toEqual([]);
  });

  it('Generic 720p: video, audio and thumbnails named from the pattern', async () => {
    const result = await runTranscode(
      job({
        inputKey: 'in/clip.mp4',
        outputs: [
          {
            key: 'web/clip.mp4',
            preset: preset('1351620000001-000010'),
            thumbnailPattern: 'web/thumbs/{resolution}/clip-{count}',
          },
        ],
      }),
    );
    const [out] = result.outputs;
    expect(result.detected).toMatchObject({
      Width: 320,
      Height: 240,
      FrameRate: '25',
      DurationMillis: expect.any(Number),
    });
    expect(out).toMatchObject({ status: 'Complete', width: 320, height: 240, frameRate: '29.97', duration: 2 });
    expect(out!.thumbnailKeys).toEqual(['web/thumbs/144x108/clip-00001.png']);

    const video = await probeObject(t.s3Client, t.bucket, 'web/clip.mp4', work);
    expect(video.contentType).toBe('video/mp4');
    const v = video.probe.streams.find((s) => s.codec_type === 'video')!;
    const a = video.probe.streams.find((s) => s.codec_type === 'audio')!;
    expect(v).toMatchObject({
      codec_name: 'h264',
      profile: 'Constrained Baseline',
      width: 320,
      height: 240,
      r_frame_rate: '30000/1001',
    });
    expect(a).toMatchObject({ codec_name: 'aac', sample_rate: '44100', channels: 2 });

    const thumb = await probeObject(t.s3Client, t.bucket, 'web/thumbs/144x108/clip-00001.png', work);
    expect(thumb.contentType).toBe('image/png');
    expect(thumb.probe.streams[0]).toMatchObject({ codec_name: 'png', width: 144, height: 108 });
  });

  it('takes a thumbnail every Interval seconds', async () => {
    const base = preset('1351620000001-000061');
    const custom = { ...base, Thumbnails: { ...base.Thumbnails, Interval: '1', Format: 'jpg' } };
    const result = await runTranscode(
      job({
        inputKey: 'in/clip.mp4',
        outputs: [{ key: 'interval/clip.mp4', preset: custom, thumbnailPattern: 'interval/t-{count}' }],
      }),
    );
    expect(result.outputs[0]!.thumbnailKeys).toEqual(['interval/t-00001.jpg', 'interval/t-00002.jpg']);
    const thumb = await probeObject(t.s3Client, t.bucket, 'interval/t-00002.jpg', work);
    expect(thumb.contentType).toBe('image/jpeg');
    expect(thumb.probe.streams[0]).toMatchObject({ codec_name: 'mjpeg' });
  });

  it('fails only the output whose key exists (3002) and leaves that object alone', async () => {
    await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'taken/song.wav', Body: 'already here' }));
    const result = await runTranscode(
      job({
        outputs: [
          { key: 'taken/song.wav', preset: preset(SeedPresets.wav) },
          { key: 'taken/song.flac', preset: preset(SeedPresets.flac) },
        ],
      }),
    );
    expect(result.outputs[0]).toMatchObject({ status: 'Error', errorCode: 3002 });
    expect(result.outputs[0]!.statusDetail).toMatch(
      /^3002 [0-9a-f-]{36}: The specified object could not be saved in the specified bucket because an object by that name already exists: bucket=mp-test-\w+, key=taken\/song\.wav\.$/,
    );
    expect(result.outputs[1]).toMatchObject({ status: 'Complete' });
    const kept = await t.s3Client.send(new GetObjectCommand({ Bucket: t.bucket, Key: 'taken/song.wav' }));
    expect(await kept.Body!.transformToString()).toBe('already here');
  });

  it('when the combined ffmpeg fails, makes each output alone so only the bad one fails', async () => {
    // libmp3lame cannot encode 96 kHz: this output makes the one-process run fail.
    const badMp3 = { Container: 'mp3', Audio: { Codec: 'mp3', SampleRate: '96000', BitRate: '128', Channels: '2' } };
    const warnings: object[] = [];
    const result = await runTranscode(
      job({
        outputs: [
          { key: 'partial/song.wav', preset: preset(SeedPresets.wav) },
          { key: 'partial/song.mp3', preset: badMp3 },
        ],
        logger: { warn: (obj) => warnings.push(obj) },
      }),
    );
    expect(result.outputs[0]).toMatchObject({ status: 'Complete' });
    expect(result.outputs[1]).toMatchObject({ status: 'Error', errorCode: 4000 });
    expect(result.outputs[1]!.statusDetail).toMatch(
      /^4000 [0-9a-f-]{36}: Amazon Elastic Transcoder could not transcode the input file\.$/,
    );
    expect(warnings).toHaveLength(2); // the combined run, then the bad output alone
    const wav = await probeObject(t.s3Client, t.bucket, 'partial/song.wav', work);
    expect(wav.probe.streams[0]).toMatchObject({ codec_name: 'pcm_s16le' });
    await expect(
      t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'partial/song.mp3' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('fans out: decodes once, encodes every output in its own ffmpeg at once, the same audio as one process', async () => {
    const outputs = (dir: string) => [
      { key: `${dir}/song.wav`, preset: preset(SeedPresets.wav) },
      { key: `${dir}/song.flac`, preset: preset(SeedPresets.flac) },
      { key: `${dir}/song.m4a`, preset: preset(SeedPresets.aacMp4) },
    ];
    const single = await runTranscode(job({ outputs: outputs('single'), fanOut: false }));
    const ffmpeg = await fanOutFfmpeg('fan', { encoders: 3 });
    const progress: number[] = [];
    const fanned = await runTranscode(
      job({
        outputs: outputs('fan'),
        fanOut: { minDurationMillis: 0 },
        ffmpegPath: ffmpeg.path,
        onProgress: (p) => progress.push(p),
      }),
    );

    expect((await ffmpeg.roles()).sort()).toEqual(['decoder', 'encoder', 'encoder', 'encoder']);
    expect(fanned.detected).toEqual(single.detected);
    for (const [n, o] of fanned.outputs.entries()) {
      expect(o).toMatchObject({ status: 'Complete', duration: 3 });
      expect(o.durationMillis).toBe(single.outputs[n]!.durationMillis);
    }
    for (const name of ['song.wav', 'song.flac', 'song.m4a']) {
      const a = await probeObject(t.s3Client, t.bucket, `single/${name}`, work);
      const b = await probeObject(t.s3Client, t.bucket, `fan/${name}`, work);
      expect(b.probe.streams).toEqual(a.probe.streams);
      expect(await audioMd5(b.file)).toBe(await audioMd5(a.file));
    }
    expect(progress.at(-1)).toBe(100);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(await entries(tmpRoot)).toEqual([]);
  });

  it('fans out: an output whose encoder fails fails alone', async () => {
    const badMp3 = { Container: 'mp3', Audio: { Codec: 'mp3', SampleRate: '96000', BitRate: '128', Channels: '2' } };
    const ffmpeg = await fanOutFfmpeg('fan-bad', { encoders: 2 });
    const warnings: object[] = [];
    const result = await runTranscode(
      job({
        outputs: [
          { key: 'fan-bad/song.wav', preset: preset(SeedPresets.wav) },
          { key: 'fan-bad/song.mp3', preset: badMp3 },
        ],
        fanOut: { minDurationMillis: 0 },
        ffmpegPath: ffmpeg.path,
        logger: { warn: (obj) => warnings.push(obj) },
      }),
    );
    expect((await ffmpeg.roles()).sort()).toEqual(['decoder', 'encoder', 'encoder']);
    expect(result.outputs.map((o) => [o.status, o.errorCode])).toEqual([
      ['Complete', undefined],
      ['Error', 4000],
    ]);
    expect(warnings).toHaveLength(1);
    await expect(
      t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'fan-bad/song.mp3' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
    expect((await probeObject(t.s3Client, t.bucket, 'fan-bad/song.wav', work)).probe.streams[0]).toMatchObject({
      codec_name: 'pcm_s16le',
    });
  });

  it('fans out: when the decoding fails, makes the outputs with one ffmpeg instead', async () => {
    const ffmpeg = await fanOutFfmpeg('fan-fallback', { encoders: 2, failDecoder: true });
    const result = await runTranscode(
      job({
        outputs: [
          { key: 'fan-fallback/song.wav', preset: preset(SeedPresets.wav) },
          { key: 'fan-fallback/song.flac', preset: preset(SeedPresets.flac) },
        ],
        fanOut: { minDurationMillis: 0 },
        ffmpegPath: ffmpeg.path,
      }),
    );
    expect(await ffmpeg.roles()).toEqual(['decoder', 'single']);
    expect(result.outputs.map((o) => o.status)).toEqual(['Complete', 'Complete']);
    expect(await entries(tmpRoot)).toEqual([]);
  });

  it('fans out: an abort stops the decoder and the encoders, and cleans up', async () => {
    const controller = new AbortController();
    const err = await runTranscode(
      job({
        outputs: [
          { key: 'fan-abort/song.wav', preset: preset(SeedPresets.wav) },
          { key: 'fan-abort/song.m4a', preset: preset(SeedPresets.aacMp4) },
        ],
        fanOut: { minDurationMillis: 0 },
        signal: controller.signal,
        onProgress: () => controller.abort(new Error('canceled')),
      }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'canceled' });
    expect(await entries(tmpRoot)).toEqual([]);
    const { stdout } = await execFileAsync('ps', ['-eo', 'args']);
    expect(stdout.split('\n').filter((l) => l.includes(tmpRoot))).toEqual([]);
    for (const key of ['fan-abort/song.wav', 'fan-abort/song.m4a']) {
      await expect(t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }))).rejects.toMatchObject({
        name: 'NotFound',
      });
    }
  });

  it('fans out: when an output cannot be stored, the other encoders are stopped and nothing is left behind', async () => {
    await putFile(
      t.s3Client,
      t.bucket,
      'in/long.mp3',
      await generateMedia('mp3', path.join(work, 'long.mp3'), { seconds: 40 }),
    );
    // An S3 that refuses the WAV output, which is ready long before the AAC one.
    const s3 = createS3Client({ ...t.s3, forcePathStyle: true });
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const upload = ['PutObjectCommand', 'CreateMultipartUploadCommand', 'UploadPartCommand'].includes(
          context.commandName ?? '',
        );
        if (upload && (args.input as { Key?: string }).Key === 'fan-store/song.wav')
          throw new Error('S3 refused the WAV');
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const err = await runTranscode(
        job({
          s3,
          inputKey: 'in/long.mp3',
          outputs: [
            { key: 'fan-store/song.wav', preset: preset(SeedPresets.wav) },
            { key: 'fan-store/song.m4a', preset: preset(SeedPresets.aacMp4) },
          ],
          fanOut: { minDurationMillis: 0 },
        }),
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ message: 'S3 refused the WAV' });
    } finally {
      s3.destroy();
    }
    // The AAC encoder was stopped: no output, no process, no scratch file.
    await expect(
      t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'fan-store/song.m4a' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
    const { stdout } = await execFileAsync('ps', ['-eo', 'args']);
    expect(stdout.split('\n').filter((l) => l.includes(tmpRoot))).toEqual([]);
    expect(await entries(tmpRoot)).toEqual([]);
  });

  it('fails the job with 3001 when the input does not exist', async () => {
    const err = await runTranscode(
      job({ inputKey: 'in/missing.mp3', outputs: [{ key: 'x/a.wav', preset: preset(SeedPresets.wav) }] }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({
      code: 3001,
      message: `The specified object does not exist in the specified S3 bucket: bucket=${t.bucket}, key=in/missing.mp3.`,
    });
    expect((err as EngineError).statusDetail).toMatch(/^3001 [0-9a-f-]{36}: The specified object does not exist/);
  });

  it('fails the job with 4000 for a file that is not media, and removes its temporary files', async () => {
    const err = await runTranscode(
      job({ inputKey: 'in/notes.txt', outputs: [{ key: 'x/notes.wav', preset: preset(SeedPresets.wav) }] }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({
      code: 4000,
      message:
        'Amazon Elastic Transcoder could not interpret the media file: it is not an audio or video file the service can read.',
    });
    expect(await entries(tmpRoot)).toEqual([]);
    await expect(
      t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'x/notes.wav' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('fails an output with 4008 when its preset needs video the input lacks', async () => {
    const result = await runTranscode(
      job({
        outputs: [
          { key: 'mismatch/song.mp4', preset: preset('1351620000001-500030') },
          { key: 'mismatch/song.m4a', preset: preset('1351620000001-000010') },
        ],
      }),
    );
    expect(result.outputs[0]).toMatchObject({ status: 'Error', errorCode: 4008 });
    expect(result.outputs[1]).toMatchObject({
      status: 'Complete',
      notes: ['The input has no video; the output has the audio only.'],
    });
  });

  it('kills ffmpeg and cleans up when the job is aborted', async () => {
    const controller = new AbortController();
    const err = await runTranscode(
      job({
        outputs: [{ key: 'aborted/song.wav', preset: preset(SeedPresets.wav) }],
        signal: controller.signal,
        onProgress: () => controller.abort(new Error('canceled')),
      }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'canceled' });
    expect(await entries(tmpRoot)).toEqual([]);
    await expect(
      t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'aborted/song.wav' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
  });
});
