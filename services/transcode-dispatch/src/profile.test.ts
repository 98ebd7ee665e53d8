import { describe, expect, it } from 'vitest';
import { defaultProfile, imageTarget, loadProfile, planEngineOutputs, planPlaylists } from './profile';

describe('planEngineOutputs', () => {
  it('gives audio the three seed presets', () => {
    expect(planEngineOutputs(defaultProfile, 'audio', 'song')).toEqual([
      { format: 'wav', presetId: '1351620000001-300300', key: 'song.wav', contentType: 'audio/wav' },
      { format: 'flac', presetId: '1351620000001-300110', key: 'song.flac', contentType: 'audio/flac' },
      { format: 'm4a', presetId: '1351620000001-100110', key: 'song.m4a', contentType: 'audio/mp4' },
    ]);
  });

  it('gives video an HLS ladder of three muxed renditions in one folder, and a 480p MP4 with thumbnails', () => {
    const out = planEngineOutputs(defaultProfile, 'video', 'clip');
    expect(out.map((o) => [o.format, o.presetId, o.key, o.segmentDuration, o.thumbnailPattern])).toEqual([
      ['hls-2m', '1351620000001-200010', 'hls/2m', '4', undefined],
      ['hls-1m', '1351620000001-200030', 'hls/1m', '4', undefined],
      ['hls-600k', '1351620000001-200040', 'hls/600k', '4', undefined],
      ['mp4-480p', '1351620000001-000020', 'clip-480p.mp4', undefined, 'clip-480p-{count}'],
    ]);
  });

  it('puts the segmented video outputs, and only those, under one HLSv3 playlist beside them', () => {
    const video = planEngineOutputs(defaultProfile, 'video', 'clip');
    expect(planPlaylists(defaultProfile, 'video', video)).toEqual([
      { name: 'hls/index', format: 'HLSv3', outputKeys: ['hls/2m', 'hls/1m', 'hls/600k'] },
    ]);
    expect(planPlaylists(defaultProfile, 'audio', planEngineOutputs(defaultProfile, 'audio', 'song'))).toEqual([]);
    const { videoPlaylist: _none, ...noPlaylist } = defaultProfile;
    expect(planPlaylists(noPlaylist, 'video', video)).toEqual([]);
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
  it('reads the default profile back from its JSON', () => {
    expect(loadProfile(JSON.stringify(defaultProfile))).toEqual(defaultProfile);
  });

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
