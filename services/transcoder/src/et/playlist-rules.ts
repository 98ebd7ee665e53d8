import { constraintViolation, validationError } from './errors';
import type { CreateJobOutputSpec, CreateJobPlaylistSpec } from './shapes';

// CreateJob's rules for segmented outputs and playlists (create-job.md, "Playlists"; job-settings.md,
// "Segment Duration"). Pure: the outputs with their presets' containers in, a ValidationException out.

export interface OutputWithContainer {
  spec: CreateJobOutputSpec;
  /** The preset's Container. */
  container: string;
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
    if (!(seconds >= 1 && seconds <= 60)) throw constraintViolation(member, spec.SegmentDuration, 'Member must be between 1 and 60 seconds');
    if (!SEGMENTABLE.has(container)) {
      throw validationError(`[Outputs:${i + 1}:SegmentDuration applies to presets whose Container is ts or fmp4; preset ${spec.PresetId} has ${container}.]`);
    }
    if (container === 'fmp4') {
      throw validationError(`[Outputs:${i + 1}:SegmentDuration on fmp4 (Smooth, MPEG-DASH) is not supported by this engine yet; use a ts preset (HLSv3).]`);
    }
    const segment = `${spec.Key}${SEGMENT_SUFFIX}`;
    if (segment.length > MAX_KEY || Buffer.byteLength(`${prefix}${segment}`) > MAX_OBJECT_KEY_BYTES) {
      throw constraintViolation(`outputs.${i + 1}.member.key`, spec.Key, `Key plus the segment number and extension (${SEGMENT_SUFFIX}) must have length less than or equal to ${MAX_KEY}`);
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
    if (pl.Format !== 'HLSv3') throw validationError(`[${at}:Format ${pl.Format} is not supported by this engine yet; use HLSv3.]`);
    for (const member of ['HlsContentProtection', 'PlayReadyDrm'] as const) {
      if (pl[member] !== undefined) throw validationError(`[${at}:${member} is not supported by this engine yet; submit the job without it.]`);
    }
    if (names.has(pl.Name)) throw validationError(`[Playlists must have unique names: the name '${pl.Name}' appears more than once (${at}).]`);
    names.add(pl.Name);
    if (dirOf(pl.Name) !== dir) {
      throw validationError(`[${at}:Name: the part of every playlist name before its last / must be the same ('${dir}' and '${dirOf(pl.Name)}').]`);
    }
    if (Buffer.byteLength(`${prefix}${pl.Name}.m3u8`) > MAX_OBJECT_KEY_BYTES) {
      throw constraintViolation(`playlists.${n + 1}.member.name`, pl.Name, `OutputKeyPrefix + Name + .m3u8 must be at most ${MAX_OBJECT_KEY_BYTES} bytes`);
    }
    if (pl.OutputKeys.length === 0) throw constraintViolation(`playlists.${n + 1}.member.outputKeys`, pl.OutputKeys, 'Member must have length greater than or equal to 1');
    let seconds: number | undefined;
    for (const key of pl.OutputKeys) {
      const output = byKey.get(key);
      if (!output) throw validationError(`[${at}:OutputKeys: '${key}' is not the Key of an output of this job.]`);
      if (!key.startsWith(dir)) throw validationError(`[${at}:OutputKeys: '${key}' must begin like the playlist's name, with '${dir}'.]`);
      const s = segmentSeconds(output.spec);
      if (output.container !== 'ts' || s === undefined) {
        throw validationError(`[${at}:OutputKeys: '${key}' must have a SegmentDuration and a preset whose Container is ts to be in an ${pl.Format} playlist.]`);
      }
      if (seconds !== undefined && s !== seconds) throw validationError(`[${at}: all the outputs of a playlist must have the same SegmentDuration.]`);
      seconds = s;
    }
  });
}
