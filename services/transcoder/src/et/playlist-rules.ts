import { createHash } from 'node:crypto';
import { constraintViolation, validationError } from './errors';
import type { EtPreset } from '../engine/types';
import type { CreateJobOutputSpec, CreateJobPlaylistSpec, HlsContentProtectionSpec } from './shapes';

// CreateJob's rules for segmented outputs and playlists (create-job.md, "Playlists"; job-settings.md,
// "Segment Duration"). Pure: the outputs with their presets' containers in, a ValidationException out.

export interface OutputWithContainer {
  spec: CreateJobOutputSpec;
  /** The preset's Container. */
  container: string;
  preset?: EtPreset;
}

const SEGMENT_SUFFIX = '00000.ts';
const MAX_KEY = 255;
const MAX_OBJECT_KEY_BYTES = 1024;
const SEGMENTABLE = new Set(['ts', 'fmp4']);

/** SegmentDuration in seconds, for an output that has one. */
export function segmentSeconds(spec: CreateJobOutputSpec): number | undefined {
  return spec.SegmentDuration === undefined ? undefined : Number(spec.SegmentDuration);
}

export function checkSegments(outputs: OutputWithContainer[], prefix = ''): void {
  outputs.forEach(({ spec, container }, i) => {
    const seconds = segmentSeconds(spec);
    if (seconds === undefined) return;
    const member = `outputs.${i + 1}.member.segmentDuration`;
    if (!(seconds >= 1 && seconds <= 60))
      throw constraintViolation(member, spec.SegmentDuration, 'Member must be between 1 and 60 seconds');
    if (!SEGMENTABLE.has(container)) {
      throw validationError(
        `[Outputs:${i + 1}:SegmentDuration applies to presets whose Container is ts or fmp4; preset ${spec.PresetId} has ${container}.]`,
      );
    }
    if (container !== 'ts') return;
    const segment = `${spec.Key}${SEGMENT_SUFFIX}`;
    if (segment.length > MAX_KEY || Buffer.byteLength(`${prefix}${segment}`) > MAX_OBJECT_KEY_BYTES) {
      throw constraintViolation(
        `outputs.${i + 1}.member.key`,
        spec.Key,
        `Key plus the segment number and extension (${SEGMENT_SUFFIX}) must have length less than or equal to ${MAX_KEY}`,
      );
    }
  });
}

export function checkPlaylists(playlists: CreateJobPlaylistSpec[], outputs: OutputWithContainer[], prefix = ''): void {
  const byKey = new Map(outputs.map((o) => [o.spec.Key, o]));
  const names = new Set<string>();
  const dirOf = (name: string) => name.slice(0, name.lastIndexOf('/') + 1);
  const dir = playlists[0] ? dirOf(playlists[0].Name) : '';
  playlists.forEach((pl, n) => {
    const at = `Playlists:${n + 1}`;
    if (pl.Format !== 'HLSv3' && pl.HlsContentProtection)
      throw validationError(
        `[${at}:HlsContentProtection with ${pl.Format} is not supported by this engine yet; use HLSv3.]`,
      );
    if (pl.PlayReadyDrm !== undefined)
      throw validationError(`[${at}:PlayReadyDrm is not supported by this engine yet; submit the job without it.]`);
    if (pl.HlsContentProtection) checkContentProtection(pl.HlsContentProtection, n);
    if (names.has(pl.Name))
      throw validationError(
        `[Playlists must have unique names: the name '${pl.Name}' appears more than once (${at}).]`,
      );
    names.add(pl.Name);
    if (dirOf(pl.Name) !== dir) {
      throw validationError(
        `[${at}:Name: the part of every playlist name before its last / must be the same ('${dir}' and '${dirOf(pl.Name)}').]`,
      );
    }
    const extension = pl.Format === 'MPEG-DASH' ? '.mpd' : pl.Format === 'Smooth' ? '.ismc' : '.m3u8';
    if (Buffer.byteLength(`${prefix}${pl.Name}${extension}`) > MAX_OBJECT_KEY_BYTES) {
      throw constraintViolation(
        `playlists.${n + 1}.member.name`,
        pl.Name,
        `OutputKeyPrefix + Name + ${extension} must be at most ${MAX_OBJECT_KEY_BYTES} bytes`,
      );
    }
    const wanted = pl.Format === 'MPEG-DASH' || pl.Format === 'Smooth' ? 'fmp4' : 'ts';
    if (pl.OutputKeys.length === 0)
      throw constraintViolation(
        `playlists.${n + 1}.member.outputKeys`,
        pl.OutputKeys,
        'Member must have length greater than or equal to 1',
      );
    let seconds: number | undefined;
    for (const key of pl.OutputKeys) {
      const output = byKey.get(key);
      if (!output) throw validationError(`[${at}:OutputKeys: '${key}' is not the Key of an output of this job.]`);
      if (!key.startsWith(dir))
        throw validationError(`[${at}:OutputKeys: '${key}' must begin like the playlist's name, with '${dir}'.]`);
      const s = segmentSeconds(output.spec);
      if (output.container !== wanted || s === undefined) {
        throw validationError(
          `[${at}:OutputKeys: '${key}' must have a SegmentDuration and a preset whose Container is ${wanted} to be in an ${pl.Format} playlist.]`,
        );
      }
      if (seconds !== undefined && s !== seconds)
        throw validationError(`[${at}: all the outputs of a playlist must have the same SegmentDuration.]`);
      seconds = s;
    }
    if (pl.Format === 'Smooth')
      checkSmoothRatios(
        pl.OutputKeys.map((k) => byKey.get(k)!),
        at,
      );
  });
  // An output's files are named by its playlist's format: it cannot be in two formats.
  playlists.forEach((pl, n) => {
    for (const key of pl.OutputKeys) {
      const other = playlists.findIndex((q) => q.Format !== pl.Format && q.OutputKeys.includes(key));
      if (other >= 0)
        throw validationError(
          `[Playlists:${n + 1}:OutputKeys: '${key}' is also in a playlist of another format (Playlists:${other + 1}: ${playlists[other]!.Format}).]`,
        );
    }
  });
  // An encrypted output has one key: its playlist's.
  playlists.forEach((pl, n) => {
    if (!pl.HlsContentProtection) return;
    for (const key of pl.OutputKeys) {
      const other = playlists.findIndex((q, m) => m !== n && q.OutputKeys.includes(key));
      if (other >= 0)
        throw validationError(
          `[Playlists:${n + 1}:OutputKeys: '${key}' is in an encrypted playlist and may not be in another (Playlists:${other + 1}).]`,
        );
    }
  });
}

/**
 * A Smooth playlist's outputs share Audio:Profile, Video:Profile, and the ratio of FrameRate to
 * KeyframesMaxDist (create-job.md, "Playlists"), so that their fragments line up.
 */
function checkSmoothRatios(outputs: OutputWithContainer[], at: string): void {
  const same = (what: string, values: Array<string | undefined>) => {
    const known = values.filter((v): v is string => v !== undefined);
    if (new Set(known).size > 1)
      throw validationError(
        `[${at}: the outputs of a Smooth playlist must have the same ${what} (${[...new Set(known)].join(', ')}).]`,
      );
  };
  same(
    'Video:Profile',
    outputs.map((o) => o.preset?.Video?.CodecOptions?.Profile),
  );
  same(
    'Audio:Profile',
    outputs.map((o) => (o.preset?.Audio ? (o.preset.Audio.CodecOptions?.Profile ?? 'auto') : undefined)),
  );
  same(
    'ratio of Video:FrameRate to Video:KeyframesMaxDist',
    outputs.map((o) => {
      const rate = Number(o.preset?.Video?.FrameRate);
      const gop = Number(o.preset?.Video?.KeyframesMaxDist);
      return o.preset?.Video && rate > 0 && gop > 0 ? (rate / gop).toFixed(4) : undefined;
    }),
  );
}

const decoded = (b64: string | undefined) => (b64 ? Buffer.from(b64, 'base64') : undefined);

/**
 * HlsContentProtection (job-settings.md, "HLS Content Protection"): a 128-bit key given with its MD5 and IV, or none of
 * the three.
 */
function checkContentProtection(p: HlsContentProtectionSpec, n: number): void {
  const member = (m: string) => `playlists.${n + 1}.member.hlsContentProtection.${m}`;
  const key = decoded(p.Key);
  if (key) {
    if (key.length !== 16)
      throw constraintViolation(member('key'), p.Key, 'Member must be a base64-encoded 128-bit key for aes-128');
    const md5 = decoded(p.KeyMd5);
    if (!md5) throw constraintViolation(member('keyMd5'), p.KeyMd5, 'Member must not be null when a Key is given');
    if (!md5.equals(createHash('md5').update(key).digest()))
      throw constraintViolation(member('keyMd5'), p.KeyMd5, 'Member must be the base64-encoded MD5 digest of the Key');
    const iv = decoded(p.InitializationVector);
    if (!iv)
      throw constraintViolation(
        member('initializationVector'),
        p.InitializationVector,
        'Member must not be null when a Key is given',
      );
    if (iv.length !== 16)
      throw constraintViolation(
        member('initializationVector'),
        p.InitializationVector,
        'Member must be 16 bytes, base64-encoded',
      );
  } else {
    if (p.KeyMd5)
      throw constraintViolation(
        member('keyMd5'),
        p.KeyMd5,
        'Member must be blank when Elastic Transcoder generates the key',
      );
    if (p.InitializationVector)
      throw constraintViolation(
        member('initializationVector'),
        p.InitializationVector,
        'Member must be blank when Elastic Transcoder generates the key',
      );
  }
  const policy = p.KeyStoragePolicy ?? 'NoStore';
  if (policy === 'WithVariantPlaylists' && p.LicenseAcquisitionUrl) {
    throw constraintViolation(
      member('licenseAcquisitionUrl'),
      p.LicenseAcquisitionUrl,
      'Member must be blank with the KeyStoragePolicy WithVariantPlaylists',
    );
  }
  if (policy === 'NoStore' && !/^https?:\/\/[^\s"]+$/.test(p.LicenseAcquisitionUrl ?? '')) {
    throw constraintViolation(
      member('licenseAcquisitionUrl'),
      p.LicenseAcquisitionUrl,
      'Member must be an absolute URL with the KeyStoragePolicy NoStore',
    );
  }
}
