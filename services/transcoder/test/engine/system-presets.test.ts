import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv } from '@mp/testbed';
import type { TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { runTranscode } from '../../src/engine/run';
import { systemPresets } from '../../src/engine/system-presets';
import type { EtPreset } from '../../src/engine/types';
import { probeObject, putFile, scratchDir } from './helpers';

// Every system preset on a one-second generated input, checked with ffprobe against the preset itself.

const FORMAT: Record<string, string> = {
  mp4: 'mp4',
  fmp4: 'mp4',
  ts: 'mpegts',
  webm: 'webm',
  mp3: 'mp3',
  flac: 'flac',
  wav: 'wav',
  flv: 'flv',
  gif: 'gif',
  mxf: 'mxf',
  mpg: 'mpeg',
  ogg: 'ogg',
};
const VIDEO_CODEC: Record<string, string> = {
  'H.264': 'h264',
  vp8: 'vp8',
  vp9: 'vp9',
  mpeg2: 'mpeg2video',
  gif: 'gif',
};
const H264_PROFILE: Record<string, RegExp> = { baseline: /Baseline/, main: /^Main$/, high: /^High/ };
const FRAME_RATE: Record<string, string> = {
  '29.97': '30000/1001',
  '30': '30/1',
  '25': '25/1',
  '15': '15/1',
  auto: '25/1',
};

function audioCodec(p: EtPreset): string {
  const a = p.Audio!;
  if (a.Codec === 'pcm') {
    const depth = a.CodecOptions!.BitDepth!;
    return `pcm_${a.CodecOptions!.Signed === 'Unsigned' ? 'u' : 's'}${depth}${depth === '8' ? '' : 'le'}`;
  }
  return a.Codec === 'AAC' ? 'aac' : a.Codec!;
}

let t: TestEnv;
let work: string;
let tmpRoot: string;

beforeAll(async () => {
  t = await createTestEnv();
  work = await scratchDir('presets');
  tmpRoot = await scratchDir('presets-tmp');
  await putFile(
    t.s3Client,
    t.bucket,
    'in/clip.mp4',
    await generateMedia('mp4', path.join(work, 'clip.mp4'), { seconds: 1, width: 320, height: 240 }),
  );
  await putFile(
    t.s3Client,
    t.bucket,
    'in/tone.mp3',
    await generateMedia('mp3', path.join(work, 'tone.mp3'), { seconds: 1 }),
  );
});

afterAll(async () => {
  await t?.cleanup();
});

const presets = systemPresets('us-east-1', '000000000000');

describe('every system preset', () => {
  it('covers them all', () => {
    expect(presets).toHaveLength(62);
  });

  it.each(presets.map((p) => [p.Id!, p.Name!, p] as const))('%s %s', async (id, _name, preset) => {
    const key = `out/${id}.${preset.Container}`;
    const result = await runTranscode({
      s3: t.s3Client,
      inputBucket: t.bucket,
      inputKey: preset.Video ? 'in/clip.mp4' : 'in/tone.mp3',
      outputBucket: t.bucket,
      outputs: [{ key, preset, ...(preset.Thumbnails ? { thumbnailPattern: `thumbs/${id}-{count}` } : {}) }],
      tmpRoot,
      planOptions: { vpxCpuUsed: 8 },
    });
    const [out] = result.outputs;
    expect(out).toMatchObject({ status: 'Complete', fileSize: expect.any(Number), duration: 1 });

    const { probe } = await probeObject(t.s3Client, t.bucket, key, work);
    expect(probe.format.format_name.split(',')).toContain(FORMAT[preset.Container!]);

    const videos = probe.streams.filter((s) => s.codec_type === 'video');
    const audios = probe.streams.filter((s) => s.codec_type === 'audio');
    if (preset.Video) {
      const v = preset.Video;
      expect(videos).toHaveLength(1);
      const stream = videos[0]!;
      expect(stream.codec_name).toBe(VIDEO_CODEC[v.Codec!]);
      const maxW = v.MaxWidth === 'auto' ? 1920 : Number(v.MaxWidth);
      const maxH = v.MaxHeight === 'auto' ? 1080 : Number(v.MaxHeight);
      expect(stream.width).toBeLessThanOrEqual(maxW);
      expect(stream.height).toBeLessThanOrEqual(maxH);
      if (v.PaddingPolicy === 'Pad') expect([stream.width, stream.height]).toEqual([maxW, maxH]);
      expect({ width: out!.width, height: out!.height }).toEqual({ width: stream.width, height: stream.height });
      if (v.Codec === 'H.264') expect(stream.profile).toMatch(H264_PROFILE[v.CodecOptions!.Profile!]!);
      expect(stream.r_frame_rate).toBe(FRAME_RATE[v.FrameRate!]);
      if (preset.Thumbnails) expect(out!.thumbnailKeys).toEqual([`thumbs/${id}-00001.${preset.Thumbnails.Format}`]);
    } else {
      expect(videos).toHaveLength(0);
    }
    if (preset.Audio) {
      const a = preset.Audio;
      const perTrack = a.AudioPackingMode === 'OneChannelPerTrack';
      expect(audios).toHaveLength(perTrack ? Number(a.Channels) : 1);
      for (const s of audios) {
        expect(s.codec_name).toBe(audioCodec(preset));
        expect(s.sample_rate).toBe(a.SampleRate);
        expect(s.channels).toBe(perTrack ? 1 : Number(a.Channels));
      }
      if (a.Codec === 'AAC' && a.CodecOptions?.Profile === 'AAC-LC') expect(audios[0]!.profile).toBe('LC');
    } else {
      expect(audios).toHaveLength(0);
    }
  });
});
