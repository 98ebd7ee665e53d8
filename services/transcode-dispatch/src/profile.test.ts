import { describe, expect, it } from 'vitest';
import { defaultProfile, imageTarget, loadProfile, planEngineOutputs } from './profile';

describe('planEngineOutputs', () => {
  it('gives audio the three seed presets', () => {
    expect(planEngineOutputs(defaultProfile, 'audio', 'song')).toEqual([
      { format: 'wav', presetId: '1351620000001-300300', key: 'song.wav', contentType: 'audio/wav' },
      { format: 'flac', presetId: '1351620000001-300110', key: 'song.flac', contentType: 'audio/flac' },
      { format: 'm4a', presetId: '1351620000001-100110', key: 'song.m4a', contentType: 'audio/mp4' },
    ]);
  });

  it('gives video 720p with thumbnails and 480p', () => {
    const out = planEngineOutputs(defaultProfile, 'video', 'clip');
    expect(out.map((o) => [o.presetId, o.key, o.thumbnailPattern])).toEqual([
      ['1351620000001-000010', 'clip-720p.mp4', 'clip-720p-{count}'],
      ['1351620000001-000020', 'clip-480p.mp4', undefined],
    ]);
  });
});

describe('imageTarget', () => {
  it.each([
    [{ format: 'half', resize: 'half' as const, suffix: '' }, 640, 480, 320, 240],
    [{ format: 'half', resize: 'half' as const, suffix: '' }, 641, 481, 320, 240],
    [{ format: 't', resize: 320, suffix: '' }, 1280, 720, 320, 180],
    [{ format: 't', resize: 320, suffix: '' }, 100, 50, 100, 50],
  ])('%j of %ix%i is %ix%i', (o, w, h, ew, eh) => {
    expect(imageTarget(o, w, h)).toEqual({ width: ew, height: eh });
  });
});

describe('loadProfile', () => {
  it('refuses a profile with a bad preset id', () => {
    const bad = JSON.stringify({
      ...defaultProfile,
      audio: [{ format: 'x', presetId: 'nope', suffix: '.x', contentType: 'a' }],
    });
    expect(() => loadProfile(bad)).toThrow();
  });

  it('refuses two outputs with one key', () => {
    const wav = defaultProfile.audio[0]!;
    expect(() => loadProfile(JSON.stringify({ ...defaultProfile, audio: [wav, { ...wav, format: 'other' }] }))).toThrow(
      /share a suffix/,
    );
  });
});
