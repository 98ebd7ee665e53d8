import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { noSandbox, type Sandbox } from './sandbox';
import type { DetectedProperties } from './types';

const execFileAsync = promisify(execFile);

export interface VideoStreamInfo {
  /** Stream index in the file, for `-map 0:<index>`. */
  index: number;
  codec: string;
  /** As displayed: rotation metadata already applied. */
  width: number;
  height: number;
  /** Frames per second, when the container says. */
  frameRate?: number;
  /** Clockwise degrees the player rotates the picture (0, 90, 180, 270). */
  rotation: number;
  /** Sample (pixel) aspect ratio; 1 for square pixels. */
  sampleAspectRatio: number;
  /** As ffprobe names them ("Main", 31), for codec strings. */
  profile?: string;
  level?: number;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  sampleRate?: number;
  channels?: number;
  /** The decoder's sample format (fltp, s16, s32p, …). */
  sampleFormat?: string;
  /** As ffprobe names it ("LC", "HE-AAC"). */
  profile?: string;
}

export interface MediaProbe {
  formatName: string;
  fileSize: number;
  durationMillis?: number;
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
}

/** The file is not media ffprobe can read. */
export class NotMediaError extends Error {
  override name = 'NotMediaError';
}

interface RawStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  sample_fmt?: string;
  sample_aspect_ratio?: string;
  profile?: string;
  level?: number;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: Array<{ rotation?: number }>;
}

interface RawProbe {
  format?: { format_name?: string; duration?: string };
  streams?: RawStream[];
}

/**
 * The only demuxers a job's input is opened with: the containers Elastic Transcoder accepted (3GP, AAC,
 * ASF, AVI, DivX, FLV, M4A, MKV, MOV, MP3, MP4, MPEG-PS, MPEG-TS, MXF, OGG, VOB, WAV, WebM) and FLAC.
 * Never a playlist or script demuxer (hls, dash, concat, sdp, image sequences, …): those open other
 * files or URLs named inside the input, so an upload could read a file of the worker's.
 */
export const INPUT_DEMUXERS = [
  'mov',
  'aac',
  'asf',
  'avi',
  'flv',
  'matroska',
  'mp3',
  'mpeg',
  'mpegts',
  'mxf',
  'ogg',
  'wav',
  'flac',
] as const;
/** Outputs are read back for their facts: the same, plus what only the engine writes. */
export const OUTPUT_DEMUXERS = [...INPUT_DEMUXERS, 'gif'] as const;
/** Inputs are local files and nothing else: no http, no concat:, subfile:, data:, … */
export const INPUT_PROTOCOLS = 'file';

/**
 * The allowed demuxer ffprobe named (`mov,mp4,m4a,3gp,3g2,mj2` → `mov`), or undefined. Pure.
 * ffprobe lists every name of one demuxer; it is allowed when its first name is.
 */
export function allowedDemuxer(formatName: string, allowed: readonly string[] = INPUT_DEMUXERS): string | undefined {
  const first = formatName.split(',')[0] ?? '';
  return allowed.includes(first) ? first : undefined;
}

/** ffmpeg/ffprobe input options that confine how a file is opened. Pure. */
export function inputRestrictions(demuxers: readonly string[]): string[] {
  return ['-protocol_whitelist', INPUT_PROTOCOLS, '-format_whitelist', demuxers.join(',')];
}

export interface ProbeOptions {
  ffprobePath?: string;
  signal?: AbortSignal;
  /** Demuxers the file may be opened with (default: a job input's). */
  demuxers?: readonly string[];
  /** Runs ffprobe with access to the file's directory only. */
  sandbox?: Sandbox;
}

export async function probeFile(file: string, opts: ProbeOptions = {}): Promise<MediaProbe> {
  const demuxers = opts.demuxers ?? INPUT_DEMUXERS;
  const args = [
    '-v',
    'error',
    ...inputRestrictions(demuxers),
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    file,
  ];
  const cmd = (opts.sandbox ?? noSandbox).wrap(opts.ffprobePath ?? 'ffprobe', args, path.dirname(file));
  let raw: RawProbe;
  try {
    const { stdout } = await execFileAsync(cmd.file, cmd.args, { maxBuffer: 16 * 1024 * 1024, signal: opts.signal });
    raw = JSON.parse(stdout) as RawProbe;
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw new NotMediaError(probeFailure((err as { stderr?: string }).stderr));
  }
  const { size } = await stat(file);
  const probe = parseProbe(raw, size);
  if (!allowedDemuxer(probe.formatName, demuxers)) {
    throw new NotMediaError(
      `its container (${probe.formatName.split(',')[0] || 'unknown'}) is not an audio or video format the service accepts`,
    );
  }
  if (!probe.video && !probe.audio) throw new NotMediaError('it has no audio or video stream');
  return probe;
}

/** ffprobe's complaint, as a reason a person can read. Pure. */
export function probeFailure(stderr: string | undefined): string {
  const text = stderr ?? '';
  const refused = /\[(\w+) @ [^\]]+\] Format not on whitelist/.exec(text);
  if (refused) return `its container (${refused[1]}) is not an audio or video format the service accepts`;
  if (/Protocol '?[\w-]+'? not on whitelist/.test(text)) return 'it refers to other files or locations';
  return 'it is not an audio or video file the service can read';
}

/** ffprobe JSON → the few facts the engine uses. Pure. */
export function parseProbe(raw: RawProbe, fileSize: number): MediaProbe {
  const streams = raw.streams ?? [];
  // Cover art in an MP3 or M4A is a one-picture "video" stream: not video.
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && s.width && s.height);
  const a = streams.find((s) => s.codec_type === 'audio');
  const seconds = Number(raw.format?.duration);
  const probe: MediaProbe = {
    formatName: raw.format?.format_name ?? '',
    fileSize,
    ...(Number.isFinite(seconds) && seconds > 0 ? { durationMillis: Math.round(seconds * 1000) } : {}),
  };
  if (v) {
    const rotation = rotationOf(v);
    const swap = rotation === 90 || rotation === 270;
    const frameRate = ratio(v.avg_frame_rate) ?? ratio(v.r_frame_rate);
    probe.video = {
      index: v.index,
      codec: v.codec_name ?? 'unknown',
      width: swap ? v.height! : v.width!,
      height: swap ? v.width! : v.height!,
      ...(frameRate ? { frameRate } : {}),
      rotation,
      sampleAspectRatio: ratio(v.sample_aspect_ratio?.replace(':', '/')) ?? 1,
      ...(v.profile ? { profile: v.profile } : {}),
      ...(v.level && v.level > 0 ? { level: v.level } : {}),
    };
  }
  if (a) {
    const sampleRate = Number(a.sample_rate);
    probe.audio = {
      index: a.index,
      codec: a.codec_name ?? 'unknown',
      ...(sampleRate > 0 ? { sampleRate } : {}),
      ...(a.channels ? { channels: a.channels } : {}),
      ...(a.sample_fmt ? { sampleFormat: a.sample_fmt } : {}),
      ...(a.profile ? { profile: a.profile } : {}),
    };
  }
  return probe;
}

export function detectedProperties(p: MediaProbe): DetectedProperties {
  return {
    ...(p.video ? { Width: p.video.width, Height: p.video.height } : {}),
    ...(p.video?.frameRate ? { FrameRate: formatFrameRate(p.video.frameRate) } : {}),
    FileSize: p.fileSize,
    ...(p.durationMillis !== undefined ? { DurationMillis: p.durationMillis } : {}),
  };
}

/** 30000/1001 → "29.97", 25 → "25": the way Elastic Transcoder writes frame rates. */
export function formatFrameRate(fps: number): string {
  return String(Math.floor(fps * 100 + 1e-6) / 100);
}

function ratio(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const [n, d = '1'] = s.split('/');
  const value = Number(n) / Number(d);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function rotationOf(s: RawStream): number {
  const fromSide = s.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  // Display matrices are counter-clockwise; the legacy tag is clockwise.
  const degrees = fromSide !== undefined ? -fromSide : Number(s.tags?.rotate ?? 0);
  const normal = (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
  return normal;
}
