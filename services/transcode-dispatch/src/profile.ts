import { SeedPresets, type MediaKind } from '@mp/contracts';
import { z } from 'zod';

/** One output of an engine job: a preset, and the key suffix after the media's base name. */
const EngineOutput = z.object({
  format: z.string().regex(/^[a-z0-9-]+$/),
  presetId: z.string().regex(/^\d{13}-\w{6}$/),
  /** After the base name; a segmented output's whole key, which may name one folder (`hls/2m`). */
  suffix: z
    .string()
    .regex(/^[\w.-]+(\/[\w.-]+)?$/)
    .refine((s) => !s.split('/').some((part) => /^\.+$/.test(part)), 'no . or .. folder'),
  contentType: z.string(),
  thumbnails: z.boolean().default(false),
  /** Seconds per HLS segment, for a `ts` preset in the profile's playlist; absent for a single file. */
  segmentDuration: z
    .string()
    .regex(/^\d{1,2}$/)
    .optional(),
});

/**
 * The HLS master playlist of a kind's segmented outputs: `<name>.m3u8` beside them (the engine requires the
 * playlist and its outputs in one folder), naming every output that has a segmentDuration.
 */
const PlaylistSpec = z.object({
  name: z.string().regex(/^([a-z0-9-]+\/)?[a-z0-9-]+$/),
  format: z.enum(['HLSv3', 'HLSv4']),
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
  videoPlaylist: PlaylistSpec.optional(),
  image: z.array(ImageOutput).min(1).max(10).refine(uniqueSuffixes, 'two image outputs share a suffix'),
});
export type Profile = z.infer<typeof Profile>;
export type EngineOutput = z.infer<typeof EngineOutput>;
export type ImageOutput = z.infer<typeof ImageOutput>;
export type PlaylistSpec = z.infer<typeof PlaylistSpec>;

/** The content type of a segmented output's row: it is played through its playlist, not downloaded. */
export const HLS_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/**
 * The system's muxed HLS presets (H.264 with AAC in MPEG-TS), largest first: a ladder of three that any HLS
 * player switches between by bandwidth. Muxed, so each rendition plays on its own (HLSv3).
 */
const hls = (format: string, presetId: string, name: string): EngineOutput => ({
  format,
  presetId,
  suffix: name,
  contentType: HLS_CONTENT_TYPE,
  thumbnails: false,
  segmentDuration: '4',
});

export const defaultProfile: Profile = {
  audio: [
    { format: 'wav', presetId: SeedPresets.wav, suffix: '.wav', contentType: 'audio/wav', thumbnails: false },
    { format: 'flac', presetId: SeedPresets.flac, suffix: '.flac', contentType: 'audio/flac', thumbnails: false },
    { format: 'm4a', presetId: SeedPresets.aacMp4, suffix: '.m4a', contentType: 'audio/mp4', thumbnails: false },
  ],
  // An HLS ladder for playing in the page (HLS 2M, 1M, 600k: up to 1024x768, 640x432, 480x320), and one MP4
  // (Generic 480p 16:9) for download, whose first thumbnail is the poster.
  video: [
    hls('hls-2m', '1351620000001-200010', 'hls/2m'),
    hls('hls-1m', '1351620000001-200030', 'hls/1m'),
    hls('hls-600k', '1351620000001-200040', 'hls/600k'),
    {
      format: 'mp4-480p',
      presetId: '1351620000001-000020',
      suffix: '-480p.mp4',
      contentType: 'video/mp4',
      thumbnails: true,
    },
  ],
  videoPlaylist: { name: 'hls/index', format: 'HLSv3' },
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
  segmentDuration?: string;
}

export interface PlannedPlaylist {
  name: string;
  format: 'HLSv3' | 'HLSv4';
  outputKeys: string[];
}

/**
 * The engine outputs for a media: pure, so the key layout is tested as data. A segmented output's key is its
 * suffix alone (`hls/2m`: the folder holds one media's stream, and the playlist must share it); a single
 * file's is the media's base name and the suffix.
 */
export function planEngineOutputs(profile: Profile, kind: Exclude<MediaKind, 'image'>, base: string): PlannedOutput[] {
  return profile[kind].map((o) => {
    const key = o.segmentDuration ? o.suffix : `${base}${o.suffix}`;
    return {
      format: o.format,
      presetId: o.presetId,
      key,
      contentType: o.contentType,
      ...(o.thumbnails ? { thumbnailPattern: `${key.replace(/\.[a-z0-9]+$/, '')}-{count}` } : {}),
      ...(o.segmentDuration ? { segmentDuration: o.segmentDuration } : {}),
    };
  });
}

/** The playlist over a kind's segmented outputs, when the profile has one and there is something to list. */
export function planPlaylists(profile: Profile, kind: Exclude<MediaKind, 'image'>, planned: PlannedOutput[]) {
  const spec = kind === 'video' ? profile.videoPlaylist : undefined;
  const outputKeys = planned.filter((o) => o.segmentDuration).map((o) => o.key);
  if (!spec || outputKeys.length === 0) return [];
  return [{ name: spec.name, format: spec.format, outputKeys }] satisfies PlannedPlaylist[];
}

/** Target size of an image output; `half` floors like the original's thumbnail(size / 2). */
export function imageTarget(o: ImageOutput, width: number, height: number): { width: number; height: number } {
  if (o.resize === 'half')
    return { width: Math.max(1, Math.floor(width / 2)), height: Math.max(1, Math.floor(height / 2)) };
  const scale = Math.min(1, o.resize / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
