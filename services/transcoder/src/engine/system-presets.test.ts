import { describe, expect, it } from 'vitest';
import { SeedPresets } from '@mp/contracts';
import { isSystemPresetId, systemPreset, systemPresets } from './system-presets';

describe('system presets', () => {
  const all = systemPresets('us-east-1', '000000000000');

  it('lists every current system preset once, in ascending id order', () => {
    const ids = all.map((p) => p.Id!);
    expect(ids).toHaveLength(62);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const p of all) {
      expect(p.Type).toBe('System');
      expect(p.Name).toMatch(/^System preset: /);
      expect(p.Arn).toBe(`arn:aws:elastictranscoder:us-east-1:000000000000:preset/${p.Id}`);
      expect(p.Audio ?? p.Video).toBeDefined();
    }
  });

  it('carries the seed presets exactly', () => {
    const byId = new Map(all.map((p) => [p.Id, p]));
    expect(byId.get(SeedPresets.wav)).toMatchObject({
      Container: 'wav',
      Audio: {
        Codec: 'pcm',
        SampleRate: '44100',
        Channels: '2',
        CodecOptions: { BitDepth: '16', BitOrder: 'LittleEndian', Signed: 'Signed' },
      },
    });
    expect(byId.get(SeedPresets.flac)).toMatchObject({
      Container: 'flac',
      Audio: { Codec: 'flac', SampleRate: '44100', Channels: '2' },
    });
    expect(byId.get(SeedPresets.aacMp4)).toEqual({
      Id: '1351620000001-100110',
      Arn: 'arn:aws:elastictranscoder:us-east-1:000000000000:preset/1351620000001-100110',
      Name: 'System preset: Audio AAC - 256k',
      Description: 'System preset: Audio AAC - 256 kilobits/second',
      Container: 'mp4',
      Audio: { Codec: 'AAC', SampleRate: '44100', BitRate: '256', Channels: '2', CodecOptions: { Profile: 'AAC-LC' } },
      Type: 'System',
    });
  });

  it('matches the published ReadPreset of HLS Video - 600k', () => {
    const p = systemPreset('1351620000001-200045', 'ap-southeast-2', '512561797349')!;
    expect(p.Video).toMatchObject({
      Codec: 'H.264',
      CodecOptions: {
        BufferSize: '4248',
        ColorSpaceConversionMode: 'None',
        InterlacedMode: 'Progressive',
        Level: '3',
        MaxBitRate: '472',
        MaxReferenceFrames: '3',
        Profile: 'baseline',
      },
      KeyframesMaxDist: '90',
      FixedGOP: 'true',
      BitRate: '472',
      FrameRate: 'auto',
      MaxFrameRate: '60',
      MaxWidth: '480',
      MaxHeight: '320',
      DisplayAspectRatio: 'auto',
      SizingPolicy: 'ShrinkToFit',
      PaddingPolicy: 'NoPad',
    });
    expect(p.Video!.Watermarks).toHaveLength(4);
    expect(p.Audio).toBeUndefined();
    expect(p.Thumbnails).toEqual({
      Format: 'png',
      Interval: '300',
      MaxWidth: '192',
      MaxHeight: '108',
      SizingPolicy: 'ShrinkToFit',
      PaddingPolicy: 'NoPad',
    });
  });

  it('resolves deprecated ids under the id asked for', () => {
    expect(isSystemPresetId('1351620000001-100140')).toBe(true);
    const p = systemPreset('1351620000001-100140', 'us-east-1', '000000000000')!;
    expect(p.Id).toBe('1351620000001-100140');
    expect(p.Audio?.BitRate).toBe('64');
    expect(isSystemPresetId('1351620000001-999999')).toBe(false);
    expect(systemPreset('nope', 'us-east-1', '000000000000')).toBeUndefined();
  });

  it('hands out copies', () => {
    const a = systemPresets('r', '000000000000');
    a[0]!.Video!.MaxWidth = '1';
    expect(systemPresets('r', '000000000000')[0]!.Video!.MaxWidth).toBe('1920');
  });
});
