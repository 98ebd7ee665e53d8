import { SeedPresets, type MediaKind } from '@mp/contracts';
import { z } from 'zod';

/** One output of an engine job: a preset, and the key suffix after the media's base name. */
const EngineOutput = z.object({
  format: z.string().regex(/^[a-z0-9-]+$/),
  presetId: z.string().regex(/^\d{13}-\w{6}$/),
  suffix: z.string().regex(/^[\w.-]+$/),
  contentType: z.string(),
  thumbnails: z.boolean().default(false),
});

/** One image output made here with sharp. `half` is the original's half-size copy. */
const ImageOutput = z.object({
  format: z.string().regex(/^[a-z0-9-]+$/),
  resize: z.union([z.literal('half'), z.number().int().min(16).max(8192)]),
  suffix: z.string().regex(/^[\w.-]*$/),
});

const uniqueSuffixes = <T extends { suffix: string }>(list: T[]) =>
  new Set(list.map((o) => o.suffix)).size === list.length;

export const Profile = z.object({
  audio: z.array(EngineOutput).min(1).max(30).refine(uniqueSuffixes, 'two audio outputs share a suffix'),
  video: z.array(EngineOutput).min(1).max(30).refine(uniqueSuffixes, 'two video outputs share a suffix'),
  image: z.array(ImageOutput).min(1).max(10).refine(uniqueSuffixes, 'two image outputs share a suffix'),
});
export type Profile = z.infer<typeof Profile>;
export type EngineOutput = z.infer<typeof EngineOutput>;
export type ImageOutput = z.infer<typeof ImageOutput>;

export const defaultProfile: Profile = {
  audio: [
    { format: 'wav', presetId: SeedPresets.wav, suffix: '.wav', contentType: 'audio/wav', thumbnails: false },
    { format: 'flac', presetId: SeedPresets.flac, suffix: '.flac', contentType: 'audio/flac', thumbnails: false },
    { format: 'm4a', presetId: SeedPresets.aacMp4, suffix: '.m4a', contentType: 'audio/mp4', thumbnails: false },
  ],
  video: [
    {
      format: 'mp4-720p',
      presetId: '1351620000001-000010',
      suffix: '-720p.mp4',
      contentType: 'video/mp4',
      thumbnails: true,
    },
    {
      format: 'mp4-480p',
      presetId: '1351620000001-000020',
      suffix: '-480p.mp4',
      contentType: 'video/mp4',
      thumbnails: false,
    },
  ],
  image: [
    { format: 'half', resize: 'half', suffix: '-half' },
    { format: 'thumb-320', resize: 320, suffix: '-320' },
  ],
};

export function loadProfile(json: string | undefined): Profile {
  if (!json) return defaultProfile;
  return Profile.parse(JSON.parse(json));
}

export interface PlannedOutput {
  format: string;
  presetId: string;
  /** Key relative to the output prefix. */
  key: string;
  contentType: string;
  thumbnailPattern?: string;
}

/** The engine outputs for a media: pure, so the key layout is tested as data. */
export function planEngineOutputs(profile: Profile, kind: Exclude<MediaKind, 'image'>, base: string): PlannedOutput[] {
  return profile[kind].map((o) => ({
    format: o.format,
    presetId: o.presetId,
    key: `${base}${o.suffix}`,
    contentType: o.contentType,
    ...(o.thumbnails ? { thumbnailPattern: `${base}${o.suffix.replace(/\.[a-z0-9]+$/, '')}-{count}` } : {}),
  }));
}

/** Target size of an image output; `half` floors like the original's thumbnail(size / 2). */
export function imageTarget(o: ImageOutput, width: number, height: number): { width: number; height: number } {
  if (o.resize === 'half')
    return { width: Math.max(1, Math.floor(width / 2)), height: Math.max(1, Math.floor(height / 2)) };
  const scale = Math.min(1, o.resize / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
