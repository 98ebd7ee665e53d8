// Elastic Transcoder preset → ffmpeg arguments. Pure: the same input and presets give the same argv.
// One ffmpeg process reads and decodes the input once and writes every output (and every thumbnail
// series) of a job: each output maps the decoded streams it needs.

import { formatFrameRate, INPUT_DEMUXERS, inputRestrictions } from './probe';
import type { MediaProbe } from './probe';
import { boxSize, fitGeometry, geometryFilters } from './sizing';
import type { EtAudioParameters, EtPreset, EtVideoParameters } from './types';

export interface PlanOutputSpec {
  preset: EtPreset;
  /** Where ffmpeg writes this output. */
  localPath: string;
  /** Directory for this output's thumbnails; thumbnails are made when it and the pattern are set. */
  thumbnailDir?: string;
  /** CreateJobOutput.ThumbnailPattern, e.g. `thumbs/{resolution}/img-{count}`. */
  thumbnailPattern?: string;
  /** CreateJobOutput.Rotate: auto | 0 | 90 | 180 | 270 (clockwise, on top of the input's own rotation). */
  rotate?: string;
  /**
   * CreateJobOutput.SegmentDuration, for a `ts` preset: HLS segments of about this many seconds, cut at
   * keyframes forced on the same instants in every rendition. `localPath` is then the media playlist,
   * `template` the segments' ffmpeg file pattern (`<dir>/seg%05d.ts`).
   */
  segments?: {
    seconds: number;
    template: string;
    /** HLSv4: every segment in the one file `template`, as byte ranges. */
    singleFile?: boolean;
    /** ffmpeg's key info file: AES-128 segments. */
    keyInfoFile?: string;
  };
  /**
   * CreateJobOutput.SegmentDuration, for an `fmp4` preset (MPEG-DASH): fragments of about this many
   * seconds, on keyframes forced at the same instants in every rendition, indexed by a sidx up front.
   */
  fragments?: {
    seconds: number;
    /** Smooth Streaming: ffmpeg's ismv muxer (a tfxd box in every fragment). */ smooth?: boolean;
  };
}

export interface PlanOptions {
  /** libx264 speed preset. */
  x264Preset?: string;
  /** libvpx `-cpu-used`. */
  vpxCpuUsed?: number;
  /** Whether this ffmpeg has libfdk_aac (the only encoder here for HE-AAC). */
  heAac?: boolean;
  /** ffmpeg's AAC coder; `fast` takes about two thirds of the CPU of the default `twoloop`. */
  aacCoder?: 'twoloop' | 'fast';
}

export interface PlanInput {
  inputPath: string;
  /**
   * The ffmpeg demuxer ffprobe found (and allowed) for the input: ffmpeg opens it with that one alone.
   * Unset, it may pick any of INPUT_DEMUXERS.
   */
  inputFormat?: string;
  probe: MediaProbe;
  outputs: PlanOutputSpec[];
  options?: PlanOptions;
}

export interface ExpectedOutput {
  /** The preset's Container. */
  container: string;
  /** ffmpeg muxer. */
  format: string;
  contentType: string;
  /** ffprobe codec names, sizes and rates the file will have. */
  video?: { codec: string; width: number; height: number; frameRate?: string };
  audio?: { codec: string; sampleRate?: number; channels?: number; tracks: number };
}

export interface PlannedThumbnails {
  dir: string;
  format: 'png' | 'jpg';
  width: number;
  height: number;
  /** ffmpeg image2 path template (`<dir>/%05d.png`). */
  localTemplate: string;
  /** The job's pattern with `{resolution}` filled in; `thumbnailName` makes each name. */
  pattern: string;
}

export interface OutputPlan {
  localPath: string;
  /** This output's part of the command line (after the inputs), thumbnails included. */
  args: string[];
  /** Filter-graph chains this output needs in `-filter_complex`. */
  filterComplex: string[];
  /** A command line that makes this output alone. */
  argv: string[];
  expected?: ExpectedOutput;
  thumbnails?: PlannedThumbnails;
  /**
   * Whether the muxer writes the file front to back, patching at most its first bytes at the end, so
   * the file can be uploaded while it is written. Not so for `+faststart` MP4, rewritten whole at the end.
   */
  sequential: boolean;
  /** Set when this output cannot be made from this input; it has no args then. */
  error?: { code: number; message: string };
  /** Where the result departs from the preset (e.g. HE-AAC made as AAC-LC). */
  notes: string[];
}

export interface JobPlan {
  /** ffmpeg command lines to run in order: one, or none when no output can be made. */
  argv: string[][];
  outputs: OutputPlan[];
}

/** 4008: "mismatch between the preset and the input file" (AWS error-handling docs). */
export const PRESET_INPUT_MISMATCH = 4008;

const H264_PROFILES = new Set(['baseline', 'main', 'high', 'high10', 'high422', 'high444']);
const FRAME_RATES: Record<string, string> = { '23.97': '24000/1001', '29.97': '30000/1001', '59.94': '60000/1001' };

interface ContainerInfo {
  format: string;
  muxerArgs: string[];
  videoType?: string;
  audioType: string;
  /** Can hold an audio-only file. */
  audioOnly: boolean;
  /** Moves its index to the front once written (see OutputPlan.sequential). */
  rewritesWhole?: boolean;
}

const CONTAINERS: Record<string, ContainerInfo> = {
  mp4: {
    format: 'mp4',
    muxerArgs: ['-movflags', '+faststart'],
    videoType: 'video/mp4',
    audioType: 'audio/mp4',
    audioOnly: true,
    rewritesWhole: true,
  },
  fmp4: {
    format: 'mp4',
    muxerArgs: ['-movflags', '+frag_keyframe+empty_moov+default_base_moof'],
    videoType: 'video/mp4',
    audioType: 'audio/mp4',
    audioOnly: true,
  },
  ts: { format: 'mpegts', muxerArgs: [], videoType: 'video/MP2T', audioType: 'audio/MP2T', audioOnly: true },
  webm: { format: 'webm', muxerArgs: [], videoType: 'video/webm', audioType: 'audio/webm', audioOnly: true },
  flv: { format: 'flv', muxerArgs: [], videoType: 'video/x-flv', audioType: 'video/x-flv', audioOnly: true },
  mpg: { format: 'vob', muxerArgs: [], videoType: 'video/mpeg', audioType: 'audio/mpeg', audioOnly: true },
  mxf: { format: 'mxf', muxerArgs: [], videoType: 'application/mxf', audioType: 'application/mxf', audioOnly: false },
  gif: { format: 'gif', muxerArgs: [], videoType: 'image/gif', audioType: 'image/gif', audioOnly: false },
  mp3: { format: 'mp3', muxerArgs: [], audioType: 'audio/mpeg', audioOnly: true },
  mp2: { format: 'mp2', muxerArgs: [], audioType: 'audio/mpeg', audioOnly: true },
  flac: { format: 'flac', muxerArgs: [], audioType: 'audio/flac', audioOnly: true },
  ogg: { format: 'ogg', muxerArgs: [], audioType: 'audio/ogg', audioOnly: true },
  oga: { format: 'ogg', muxerArgs: [], audioType: 'audio/ogg', audioOnly: true },
  // RF64 beyond 4 GiB, plain RIFF below.
  wav: { format: 'wav', muxerArgs: ['-rf64', 'auto'], audioType: 'audio/wav', audioOnly: true },
};

/** The file extension for a container, for local file names. */
export function containerExtension(container: string): string {
  return container === 'fmp4' ? 'mp4' : container === 'oga' ? 'ogg' : container;
}

export function planJob(input: PlanInput): JobPlan {
  const outputs = input.outputs.map((spec, i) => planOutput(input, spec, i));
  const runnable = outputs.filter((o) => !o.error);
  if (runnable.length === 0) return { argv: [], outputs };
  const filterComplex = runnable.flatMap((o) => o.filterComplex);
  const argv = [
    ...head(input.inputPath, input.inputFormat),
    ...(filterComplex.length ? ['-filter_complex', filterComplex.join(';')] : []),
    ...runnable.flatMap((o) => o.args),
  ];
  return { argv: [argv], outputs };
}

/**
 * A job's audio outputs made side by side: one ffmpeg decodes the input once to a file of lossless PCM
 * (NUT), then one ffmpeg per output encodes from that file, all at once. The same outputs as the single
 * command, but the encoders run on all cores (Debian's ffmpeg 5.1 runs all of one process's encoders on one
 * thread), and each output is ready as soon as its own encoder is done.
 */
export interface FanOutPlan {
  /** The decoder's command line: the input once, to `decodedPath`. */
  decoder: string[];
  decodedPath: string;
  /**
   * One per output that can be made, in plan order: that output's command line, reading the decoded file,
   * and the niceness to run it at: the cheap encoders (PCM, FLAC) yield the cores to the costly ones, which
   * set the job's pace.
   */
  encoders: Array<{ output: OutputPlan; argv: string[]; nice: number }>;
}

/** Relative CPU cost of an audio encoder (ffprobe codec name): PCM 0, lossless 1, lossy 2. */
export function encoderCost(codec: string): number {
  if (codec.startsWith('pcm_')) return 0;
  return codec === 'flac' || codec === 'alac' ? 1 : 2;
}

/**
 * The fan-out of a job whose outputs are all audio-only (no video, no thumbnails), at least two of them;
 * undefined otherwise.
 */
export function planAudioFanOut(input: PlanInput, plan: JobPlan, decodedPath: string): FanOutPlan | undefined {
  const audio = input.probe.audio;
  const runnable = plan.outputs.filter((o) => !o.error);
  if (!audio || runnable.length < 2 || runnable.some((o) => !o.expected?.audio || o.expected.video || o.thumbnails))
    return undefined;
  const decoder = [
    ...head(input.inputPath, input.inputFormat),
    '-map',
    `0:${audio.index}`,
    '-c:a',
    losslessPcm(audio.sampleFormat),
    '-f',
    'nut',
    decodedPath,
  ];
  // The decoded file holds one stream: the audio, stream 0.
  const { video: _video, ...rest } = input.probe;
  const decoded: MediaProbe = { ...rest, audio: { ...audio, index: 0 } };
  const costliest = Math.max(...runnable.map((o) => encoderCost(o.expected!.audio!.codec)));
  const encoders = runnable.map((output) => {
    const i = plan.outputs.indexOf(output);
    const argv = planOutput(
      { ...input, inputPath: decodedPath, inputFormat: 'nut', probe: decoded },
      input.outputs[i]!,
      i,
    ).argv;
    return { output, argv, nice: encoderCost(output.expected!.audio!.codec) < costliest ? 10 : 0 };
  });
  return { decoder, decodedPath, encoders };
}

/** Bytes per second of decoded audio in the fan-out's file, to bound its size. */
export function decodedBytesPerSecond(audio: {
  sampleRate?: number;
  channels?: number;
  sampleFormat?: string;
}): number {
  return (audio.sampleRate ?? 48_000) * (audio.channels ?? 2) * losslessSample(audio.sampleFormat).bytes;
}

/** A PCM codec that holds a decoder's samples exactly (planar formats become packed). */
export function losslessPcm(sampleFormat: string | undefined): string {
  return losslessSample(sampleFormat).codec;
}

// Decoder sample format (planar or packed) → the PCM codec that holds it exactly, and its bytes per sample.
const LOSSLESS: Record<string, { codec: string; bytes: number }> = {
  u8: { codec: 'pcm_u8', bytes: 1 },
  s16: { codec: 'pcm_s16le', bytes: 2 },
  s32: { codec: 'pcm_s32le', bytes: 4 },
  s64: { codec: 'pcm_s64le', bytes: 8 },
  flt: { codec: 'pcm_f32le', bytes: 4 },
  dbl: { codec: 'pcm_f64le', bytes: 8 },
};

function losslessSample(sampleFormat: string | undefined): { codec: string; bytes: number } {
  return LOSSLESS[sampleFormat?.replace(/p$/, '') ?? ''] ?? LOSSLESS.flt!;
}

function head(inputPath: string, inputFormat?: string): string[] {
  const demuxer = inputFormat ? ['-f', inputFormat] : [];
  const restrictions = inputRestrictions(inputFormat ? [inputFormat] : INPUT_DEMUXERS);
  // Quiet but for errors, progress as key=value lines on stdout, never a prompt.
  const quiet = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-y'];
  return [...quiet, ...restrictions, ...demuxer, '-i', inputPath];
}

function planOutput(input: PlanInput, spec: PlanOutputSpec, i: number): OutputPlan {
  const { probe } = input;
  const preset = spec.preset;
  const container = preset.Container ?? 'mp4';
  const info = CONTAINERS[container];
  const notes: string[] = [];
  const failed = (code: number, message: string): OutputPlan => ({
    localPath: spec.localPath,
    args: [],
    filterComplex: [],
    argv: [],
    sequential: false,
    error: { code, message },
    notes,
  });
  if (!info)
    return failed(PRESET_INPUT_MISMATCH, `Amazon Elastic Transcoder does not support the container ${container}.`);

  const wantsAudio = !!preset.Audio?.Codec && preset.Audio.Channels !== '0';
  let useVideo = !!preset.Video?.Codec && !!probe.video;
  const useAudio = wantsAudio && !!probe.audio;
  if (preset.Video?.Codec && !probe.video) {
    if (!useAudio || !info.audioOnly) {
      return failed(PRESET_INPUT_MISMATCH, 'The preset requires video, but the input file has no video stream.');
    }
    notes.push('The input has no video; the output has the audio only.');
    useVideo = false;
  }
  if (!useVideo && !useAudio) {
    return failed(PRESET_INPUT_MISMATCH, 'The preset requires audio, but the input file has no audio stream.');
  }

  const args: string[] = [];
  const filterComplex: string[] = [];
  const expected: ExpectedOutput = {
    container,
    format: info.format,
    contentType: useVideo ? info.videoType! : info.audioType,
  };
  if (spec.segments && container !== 'ts')
    return failed(
      PRESET_INPUT_MISMATCH,
      `Amazon Elastic Transcoder cannot segment the container ${container} into HLS.`,
    );
  if (spec.fragments && container !== 'fmp4')
    return failed(
      PRESET_INPUT_MISMATCH,
      `Amazon Elastic Transcoder cannot fragment the container ${container} for MPEG-DASH.`,
    );
  const cut = spec.segments ?? spec.fragments;
  if (useVideo) {
    const video = planVideo(preset.Video!, probe, spec.rotate, input.options ?? {});
    args.push('-map', `0:${probe.video!.index}`, ...video.args);
    // Keyframes on the same instants in every rendition, so that a player can switch at any segment.
    if (cut) args.push('-force_key_frames', `expr:gte(t,n_forced*${cut.seconds})`);
    expected.video = video.expected;
  }
  if (useAudio) {
    const audio = planAudio(preset.Audio!, probe, i, input.options ?? {}, notes);
    args.push(...audio.args);
    filterComplex.push(...audio.filterComplex);
    expected.audio = audio.expected;
  }
  if (container === 'gif') args.push('-f', 'gif', '-loop', loopCount(preset.Video?.CodecOptions?.LoopCount));
  else if (spec.segments) args.push(...hlsMuxer(spec.segments));
  else if (spec.fragments?.smooth) args.push(...smoothMuxer(spec.fragments.seconds, useVideo));
  else if (spec.fragments) args.push(...dashMuxer(spec.fragments.seconds, useVideo));
  else args.push('-f', info.format, ...info.muxerArgs);
  args.push(spec.localPath);

  let thumbnails: PlannedThumbnails | undefined;
  if (spec.thumbnailDir && spec.thumbnailPattern && preset.Thumbnails?.Format) {
    if (probe.video) {
      const t = planThumbnails(preset, probe, spec.rotate, spec.thumbnailDir, spec.thumbnailPattern);
      thumbnails = t.thumbnails;
      args.push(...t.args);
    } else {
      notes.push('The input has no video; no thumbnails were made.');
    }
  }

  const solo = [
    ...head(input.inputPath, input.inputFormat),
    ...(filterComplex.length ? ['-filter_complex', filterComplex.join(';')] : []),
    ...args,
  ];
  return {
    localPath: spec.localPath,
    args,
    filterComplex,
    argv: solo,
    sequential: !info.rewritesWhole && !cut,
    expected,
    ...(thumbnails ? { thumbnails } : {}),
    notes,
  };
}

/**
 * A fragmented MP4 for MPEG-DASH: a fragment per keyframe (video) or per `seconds` (audio), a global sidx after the
 * moov.
 */
function dashMuxer(seconds: number, video: boolean): string[] {
  return video
    ? ['-f', 'mp4', '-movflags', '+dash+global_sidx+frag_keyframe']
    : ['-f', 'mp4', '-frag_duration', String(Math.round(seconds * 1e6)), '-movflags', '+dash+global_sidx'];
}

/** A Smooth Streaming file: ffmpeg's ismv muxer, a fragment per keyframe (video) or per `seconds` (audio). */
function smoothMuxer(seconds: number, video: boolean): string[] {
  return video
    ? ['-f', 'ismv', '-movflags', '+frag_keyframe']
    : ['-f', 'ismv', '-frag_duration', String(Math.round(seconds * 1e6))];
}

/** ffmpeg's hls muxer writing a whole VOD playlist of MPEG-TS segments numbered from 0. */
export function hlsMuxer(segments: NonNullable<PlanOutputSpec['segments']>): string[] {
  return [
    '-f',
    'hls',
    '-hls_time',
    String(segments.seconds),
    '-hls_list_size',
    '0',
    '-hls_playlist_type',
    'vod',
    '-start_number',
    '0',
    '-hls_segment_type',
    'mpegts',
    '-hls_segment_filename',
    segments.template,
    ...(segments.singleFile ? ['-hls_flags', 'single_file'] : []),
    ...(segments.keyInfoFile ? ['-hls_key_info_file', segments.keyInfoFile] : []),
  ];
}

function displayedSource(
  probe: MediaProbe,
  rotate: string | undefined,
): { width: number; height: number; filters: string[] } {
  const v = probe.video!;
  // Non-square input pixels are resized to square ones first.
  const width = Math.round(v.width * (v.sampleAspectRatio || 1));
  const degrees = Number(rotate);
  if (degrees === 90) return { width: v.height, height: width, filters: ['transpose=clock'] };
  if (degrees === 270) return { width: v.height, height: width, filters: ['transpose=cclock'] };
  if (degrees === 180) return { width, height: v.height, filters: ['hflip', 'vflip'] };
  return { width, height: v.height, filters: [] };
}

function outputFrameRate(video: EtVideoParameters, probe: MediaProbe): string | undefined {
  const fixed = numeric(video.FrameRate);
  if (fixed) return fixed;
  const source = probe.video?.frameRate;
  const max = numeric(video.MaxFrameRate);
  if (source && max && source > Number(max) + 0.01) return max;
  return undefined;
}

function planVideo(video: EtVideoParameters, probe: MediaProbe, rotate: string | undefined, options: PlanOptions) {
  const source = displayedSource(probe, rotate);
  const darParts = aspect(video.DisplayAspectRatio);
  const dar = darParts ? darParts[0] / darParts[1] : undefined;
  let frameSource = { width: source.width, height: source.height };
  const box = { width: video.MaxWidth, height: video.MaxHeight };
  // A fixed display aspect ratio on a padded, fixed-size frame means non-square output pixels: size the
  // picture in those pixels so it is not distorted once displayed.
  const frame = boxSize(box);
  const sar = dar && video.PaddingPolicy === 'Pad' ? (dar * frame.height) / frame.width : 1;
  if (sar !== 1) frameSource = { width: Math.round(source.width / sar), height: source.height };
  const g = fitGeometry(frameSource, box, video.SizingPolicy, video.PaddingPolicy);

  const rate = outputFrameRate(video, probe);
  const codec = video.Codec ?? 'H.264';
  const filters = [
    ...(rate ? [`fps=${FRAME_RATES[rate] ?? rate}`] : []),
    ...source.filters,
    ...(sar !== 1 || probe.video!.sampleAspectRatio !== 1 ? [`scale=${frameSource.width}:${frameSource.height}`] : []),
    ...geometryFilters(frameSource, g),
    darParts ? `setdar=${darParts[0]}/${darParts[1]}` : 'setsar=1',
  ];
  const codecArgs = videoCodecArgs(codec, video, options);
  const expectedRate = rate ?? (probe.video!.frameRate ? formatFrameRate(probe.video!.frameRate) : undefined);
  return {
    args: [...codecArgs.args, '-vf', dedupeScale(filters).join(',')],
    expected: {
      codec: codecArgs.probeName,
      width: g.width,
      height: g.height,
      ...(expectedRate ? { frameRate: expectedRate } : {}),
    },
  };
}

// Two scales in a row (square pixels, then the box) are one.
function dedupeScale(filters: string[]): string[] {
  const out: string[] = [];
  for (const f of filters) {
    const last = out[out.length - 1];
    if (f.startsWith('scale=') && last?.startsWith('scale=')) out[out.length - 1] = f;
    else out.push(f);
  }
  return out;
}

function videoCodecArgs(
  codec: string,
  video: EtVideoParameters,
  options: PlanOptions,
): { args: string[]; probeName: string } {
  const o = video.CodecOptions ?? {};
  const kmd = numeric(video.KeyframesMaxDist);
  const fixedGop = video.FixedGOP === 'true';
  const interlaced = o.InterlacedMode === 'TopFirst' || o.InterlacedMode === 'BottomFirst';
  const fieldOrder = o.InterlacedMode === 'BottomFirst' ? 'bb' : 'tt';
  switch (codec) {
    case 'H.264': {
      const args = ['-c:v', 'libx264', '-preset', options.x264Preset ?? 'veryfast'];
      if (o.Profile && H264_PROFILES.has(o.Profile)) args.push('-profile:v', o.Profile);
      if (o.Level && /^\d(\.\d)?$/.test(o.Level)) args.push('-level:v', o.Level);
      if (numeric(o.MaxReferenceFrames)) args.push('-refs', o.MaxReferenceFrames!);
      args.push(...rateArgs(video));
      if (kmd) args.push('-g', kmd);
      if (fixedGop && kmd) args.push('-keyint_min', kmd, '-sc_threshold', '0');
      args.push('-pix_fmt', 'yuv420p');
      if (interlaced) args.push('-flags', '+ildct+ilme', '-field_order', fieldOrder);
      return { args, probeName: 'h264' };
    }
    case 'vp8':
    case 'vp9': {
      const args = [
        '-c:v',
        codec === 'vp8' ? 'libvpx' : 'libvpx-vp9',
        '-deadline',
        'good',
        '-cpu-used',
        String(options.vpxCpuUsed ?? 4),
      ];
      if (codec === 'vp9') args.push('-row-mt', '1');
      if (o.Profile && /^[0-3]$/.test(o.Profile)) args.push('-profile:v', o.Profile);
      args.push(...rateArgs(video));
      if (kmd) args.push('-g', kmd);
      if (fixedGop && kmd) args.push('-keyint_min', kmd);
      args.push('-pix_fmt', 'yuv420p');
      return { args, probeName: codec };
    }
    case 'mpeg2': {
      const args = ['-c:v', 'mpeg2video', ...rateArgs(video)];
      if (kmd) args.push('-g', kmd);
      args.push('-bf', '2');
      const flags = [...(fixedGop ? ['+cgop'] : []), ...(interlaced ? ['+ildct', '+ilme'] : [])];
      // mpeg2video refuses a closed GOP together with scene-change keyframes.
      if (fixedGop) args.push('-sc_threshold', '1000000000');
      if (flags.length) args.push('-flags', flags.join(''));
      if (interlaced) args.push('-field_order', fieldOrder, '-top', fieldOrder === 'tt' ? '1' : '0');
      args.push('-pix_fmt', o.ChromaSubsampling === 'yuv422p' ? 'yuv422p' : 'yuv420p');
      return { args, probeName: 'mpeg2video' };
    }
    case 'gif':
      return { args: ['-c:v', 'gif'], probeName: 'gif' };
    default:
      throw new Error(`unsupported video codec ${codec}`);
  }
}

function rateArgs(video: EtVideoParameters): string[] {
  const o = video.CodecOptions ?? {};
  const bitRate = numeric(video.BitRate);
  const max = numeric(o.MaxBitRate);
  const buffer = numeric(o.BufferSize) ?? (max ? String(Number(max) * 2) : undefined);
  return [
    ...(bitRate ? ['-b:v', `${bitRate}k`] : ['-crf', '23']),
    ...(max ? ['-maxrate', `${max}k`] : []),
    ...(max && buffer ? ['-bufsize', `${buffer}k`] : []),
  ];
}

function planAudio(audio: EtAudioParameters, probe: MediaProbe, i: number, options: PlanOptions, notes: string[]) {
  const a = probe.audio!;
  const codec = audioCodec(audio, options, notes);
  const sampleRate = numeric(audio.SampleRate) ? Number(audio.SampleRate) : a.sampleRate;
  const inputChannels = a.channels ?? 2;
  let channels = numeric(audio.Channels) ? Number(audio.Channels) : inputChannels;
  // mp2 and mp3 have no layouts beyond stereo.
  if ((codec.name === 'libmp3lame' || codec.name === 'mp2') && channels > 2) channels = 2;
  const args: string[] = [];
  const filterComplex: string[] = [];
  const packing = audio.AudioPackingMode ?? 'SingleTrack';
  let tracks = 1;
  if (packing === 'SingleTrack' || channels < 1) {
    args.push('-map', `0:${a.index}`, '-c:a', codec.name, ...codec.args);
    if (numeric(audio.SampleRate)) args.push('-ar', audio.SampleRate!);
    if (numeric(audio.Channels) || channels !== inputChannels) args.push('-ac', String(channels));
  } else {
    // One mono track per channel; with MOS, silent tracks up to 8.
    const layout = channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels}c`;
    const labels = Array.from({ length: channels }, (_, c) => `o${i}c${c}`);
    const mos = packing === 'OneChannelPerTrackWithMosTo8Tracks' ? 8 - channels : 0;
    const silent = Array.from({ length: mos }, (_, c) => `o${i}s${c}`);
    const resample = sampleRate ? `aresample=${sampleRate},` : '';
    const split = channels === 1 ? '' : `,channelsplit=channel_layout=${layout}`;
    if (mos > 0) {
      filterComplex.push(`[0:${a.index}]${resample}aformat=channel_layouts=${layout},asplit=2[o${i}all][o${i}mos]`);
      filterComplex.push(`[o${i}all]anull${split}${labels.map((l) => `[${l}]`).join('')}`);
      filterComplex.push(
        `[o${i}mos]pan=mono|c0=0*c0,volume=0${mos > 1 ? `,asplit=${mos}` : ''}${silent.map((l) => `[${l}]`).join('')}`,
      );
    } else {
      filterComplex.push(
        `[0:${a.index}]${resample}aformat=channel_layouts=${layout}${split}${labels.map((l) => `[${l}]`).join('')}`,
      );
    }
    for (const l of [...labels, ...silent]) args.push('-map', `[${l}]`);
    args.push('-c:a', codec.name, ...codec.args);
    tracks = labels.length + silent.length;
    channels = 1;
  }
  return {
    args,
    filterComplex,
    expected: { codec: codec.probeName, ...(sampleRate ? { sampleRate } : {}), channels, tracks },
  };
}

function audioCodec(
  audio: EtAudioParameters,
  options: PlanOptions,
  notes: string[],
): { name: string; args: string[]; probeName: string } {
  const bitRate = numeric(audio.BitRate) ? ['-b:a', `${audio.BitRate}k`] : [];
  const o = audio.CodecOptions ?? {};
  switch ((audio.Codec ?? '').toLowerCase()) {
    case 'aac': {
      const he = o.Profile === 'HE-AAC' || o.Profile === 'HE-AACv2';
      if (he && options.heAac) {
        return {
          name: 'libfdk_aac',
          args: ['-profile:a', o.Profile === 'HE-AAC' ? 'aac_he' : 'aac_he_v2', ...bitRate],
          probeName: 'aac',
        };
      }
      if (he) notes.push(`${o.Profile} is made as AAC-LC: this ffmpeg has no HE-AAC encoder.`);
      const coder = options.aacCoder ? ['-aac_coder', options.aacCoder] : [];
      return { name: 'aac', args: ['-profile:a', 'aac_low', ...coder, ...bitRate], probeName: 'aac' };
    }
    case 'mp3':
      return { name: 'libmp3lame', args: bitRate, probeName: 'mp3' };
    case 'mp2':
      return { name: 'mp2', args: bitRate, probeName: 'mp2' };
    case 'vorbis':
      return { name: 'libvorbis', args: bitRate, probeName: 'vorbis' };
    case 'flac':
      return o.BitDepth === '24'
        ? { name: 'flac', args: ['-sample_fmt', 's32', '-bits_per_raw_sample', '24'], probeName: 'flac' }
        : { name: 'flac', args: ['-sample_fmt', 's16'], probeName: 'flac' };
    case 'pcm': {
      const name = pcmCodec(o.BitDepth, o.Signed, o.BitOrder);
      return { name, args: [], probeName: name };
    }
    case 'opus':
      return { name: 'libopus', args: bitRate, probeName: 'opus' };
    default:
      throw new Error(`unsupported audio codec ${audio.Codec}`);
  }
}

/** PCM encoder name from BitDepth / Signed / BitOrder; 8-bit samples have no byte order. */
export function pcmCodec(bitDepth = '16', signed = 'Signed', bitOrder = 'LittleEndian'): string {
  const depth = ['8', '16', '24', '32'].includes(bitDepth) ? bitDepth : '16';
  // Only 8-bit PCM is unsigned in practice (WAV); wider unsigned samples are written signed.
  const sign = depth === '8' ? (signed === 'Signed' ? 's' : 'u') : 's';
  const order = depth === '8' ? '' : bitOrder === 'BigEndian' ? 'be' : 'le';
  return `pcm_${sign}${depth}${order}`;
}

function planThumbnails(preset: EtPreset, probe: MediaProbe, rotate: string | undefined, dir: string, pattern: string) {
  const t = preset.Thumbnails!;
  const format = t.Format === 'jpg' ? 'jpg' : 'png';
  const source = displayedSource(probe, rotate);
  const g = fitGeometry(
    { width: source.width, height: source.height },
    { width: t.MaxWidth, height: t.MaxHeight },
    t.SizingPolicy,
    t.PaddingPolicy,
  );
  const interval = numeric(t.Interval) ?? '60';
  // The first frame, then the first frame at least Interval seconds after the last one taken.
  const every = `select='isnan(prev_selected_t)+gte(t-prev_selected_t,${interval})'`;
  const filters = [every, ...source.filters, ...geometryFilters(source, g), 'setsar=1'];
  const localTemplate = `${dir}/%05d.${format}`;
  const codec = format === 'png' ? ['-c:v', 'png'] : ['-c:v', 'mjpeg', '-q:v', '2', '-pix_fmt', 'yuvj420p'];
  return {
    thumbnails: {
      dir,
      format,
      width: g.width,
      height: g.height,
      localTemplate,
      pattern: pattern.replaceAll('{resolution}', `${g.width}x${g.height}`),
    } satisfies PlannedThumbnails,
    args: [
      '-map',
      `0:${probe.video!.index}`,
      '-vf',
      filters.join(','),
      '-fps_mode',
      'vfr',
      ...codec,
      '-f',
      'image2',
      '-start_number',
      '1',
      localTemplate,
    ],
  };
}

/** The object name of thumbnail number `count` (1-based): `{count}` as five digits, the format appended. */
export function thumbnailName(pattern: string, count: number, format: string): string {
  return `${pattern.replaceAll('{count}', String(count).padStart(5, '0'))}.${format}`;
}

function loopCount(value: string | undefined): string {
  const n = Number(value);
  return value === undefined || value === 'Infinite' || !Number.isInteger(n) ? '0' : String(n);
}

function numeric(value: string | undefined): string | undefined {
  return value && /^\d+(\.\d+)?$/.test(value) ? value : undefined;
}

/** "16:9" → [16, 9]; anything else (auto, garbage) → undefined. */
function aspect(value: string | undefined): [number, number] | undefined {
  const m = /^(\d{1,2}):(\d{1,2})$/.exec(value ?? '');
  return m && Number(m[1]) > 0 && Number(m[2]) > 0 ? [Number(m[1]), Number(m[2])] : undefined;
}
