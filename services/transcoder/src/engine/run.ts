// One Elastic Transcoder job, start to end: check the objects, fetch the input to a temporary file,
// probe it, run ffmpeg once for every output, probe and upload the results, clean up.

import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { objectExists } from '@mp/storage';
import type { EtOutputMeasures } from '@mp/contracts';
import type { S3Client } from '@aws-sdk/client-s3';
import { containerExtension, decodedBytesPerSecond, planAudioFanOut, planJob, thumbnailName } from './plan';
import type { FanOutPlan, JobPlan, PlanInput, OutputPlan, PlanOptions, PlanOutputSpec } from './plan';
import {
  allowedDemuxer,
  detectedProperties,
  formatFrameRate,
  inputRestrictions,
  NotMediaError,
  OUTPUT_DEMUXERS,
  probeFile,
} from './probe';
import type { MediaProbe, ProbeOptions } from './probe';
import { noSandbox, type Sandbox } from './sandbox';
import type { DetectedProperties, EtPreset } from './types';
import { dashLayout, dashManifest, type DashRepresentation } from './dash';
import {
  clientManifest,
  fragmentTime,
  manifestTracks,
  serverManifest,
  smoothTracks,
  toTicks,
  type SmoothQuality,
} from './smooth';
import {
  codecsAttribute,
  iframePlaylist,
  iframePlaylistKey,
  iframesOf,
  keyInfo,
  masterPlaylist,
  measuredBandwidth,
  parseMediaPlaylist,
  segmentKey,
  singleFileKey,
  variantPlaylist,
  variantPlaylistKey,
  type HlsVersion,
  type Rendition,
  type SegmentKey,
} from './hls';
import { runFfmpeg } from './ffmpeg';
import { progressThrottle } from './progress';
import { FollowingUpload, uploadFile } from './upload';

/** A failure of the whole job, with its Elastic Transcoder error code (3001, 4000, …). */
export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  /** The `StatusDetail` / `messageDetails` form: `"<code> <uuid>: <text>"`. */
  get statusDetail(): string {
    return formatStatusDetail(this.code, this.message);
  }
}

export function formatStatusDetail(code: number, text: string): string {
  return `${code} ${randomUUID()}: ${text}`.slice(0, 255);
}

const ErrorText = {
  inputMissing: (bucket: string, key: string) =>
    `The specified object does not exist in the specified S3 bucket: bucket=${bucket}, key=${key}.`,
  outputExists: (bucket: string, key: string) =>
    `The specified object could not be saved in the specified bucket because an object by that name already exists: bucket=${bucket}, key=${key}.`,
  notMedia: 'Amazon Elastic Transcoder could not interpret the media file.',
  /** notMedia with the reason, e.g. "its container (hls) is not …". */
  notMediaBecause: (reason: string) => `Amazon Elastic Transcoder could not interpret the media file: ${reason}.`,
  transcodeFailed: 'Amazon Elastic Transcoder could not transcode the input file.',
} as const;

export interface RunOutputSpec {
  /** Full object key in the output bucket (OutputKeyPrefix + Key). */
  key: string;
  preset: EtPreset;
  /** Full thumbnail key pattern (OutputKeyPrefix + ThumbnailPattern), with `{count}`. */
  thumbnailPattern?: string;
  /** CreateJobOutput.Rotate. */
  rotate?: string;
  /** CreateJobOutput.SegmentDuration in seconds: an HLSv3 output, `<key>.m3u8` over `<key>00000.ts`, … */
  segmentSeconds?: number;
  /** Its playlist's HlsContentProtection: AES-128 segments. */
  encryption?: SegmentKey;
  /** 4 when in an HLSv4 playlist: one `<key>.ts` of byte ranges, `<key>_v4.m3u8`, `<key>_iframe.m3u8`. */
  hlsVersion?: HlsVersion;
  /** In a Smooth playlist: an ismv file rather than a DASH one. */
  smooth?: boolean;
}

export interface RunPlaylistSpec {
  /** The master playlist's full key (OutputKeyPrefix + Name + `.m3u8`). */
  key: string;
  /** Indexes into `outputs` of its renditions. */
  outputs: number[];
  /**
   * An HLS master of this version, an MPEG-DASH manifest, or Smooth's server (`key`) and client (`.ismc`) manifests.
   */
  version: HlsVersion | 'dash' | 'smooth';
  /** KeyStoragePolicy WithVariantPlaylists: the key object stored beside the playlists. */
  keyObject?: { key: string; bytes: Buffer };
}

export interface RunTranscodeInput {
  s3: S3Client;
  inputBucket: string;
  inputKey: string;
  outputBucket: string;
  /** Defaults to the output bucket (the pipeline's ThumbnailConfig.Bucket). */
  thumbnailBucket?: string;
  outputs: RunOutputSpec[];
  /** A directory for this job's scratch directory; removed again at the end. */
  tmpRoot: string;
  signal?: AbortSignal;
  /** 0..100, each time the whole percentage changes. */
  onProgress?: (percent: number) => void;
  ffmpegPath?: string;
  ffprobePath?: string;
  planOptions?: PlanOptions;
  /**
   * Audio-only jobs of several outputs from inputs at least this long decode once to a scratch file and
   * encode every output in its own process at once (see planAudioFanOut); false: always one ffmpeg.
   * Default: 15 s, on machines of 2+ cores. Inputs whose decoded audio would pass 2 GiB never fan out.
   */
  fanOut?: { minDurationMillis: number } | false;
  /** Receives ffmpeg's stderr when a run fails (a pino logger fits). */
  logger?: { warn(obj: object, msg: string): void };
  /** Confines ffmpeg and ffprobe to the job's scratch directory (see sandbox.ts); default none. */
  sandbox?: Sandbox;
  /** HLSv3 master playlists over segmented outputs, written once their outputs are stored. */
  playlists?: RunPlaylistSpec[];
}

const DEFAULT_FAN_OUT = { minDurationMillis: 15_000 };
const MAX_DECODED_BYTES = 2 * 1024 ** 3;

export interface RunOutputResult extends EtOutputMeasures {
  status: 'Complete' | 'Error';
  statusDetail?: string;
  errorCode?: number;
  frameRate?: string;
  thumbnailKeys: string[];
  /** Where the output departs from its preset. */
  notes: string[];
  /** A segmented output's rendition, for the master playlists it is in. */
  rendition?: Rendition;
  /** An MPEG-DASH output's representation, for the manifests it is in. */
  dash?: DashRepresentation;
  /** A Smooth output's tracks as quality levels, for the manifests it is in. */
  smooth?: SmoothQuality[];
}

export interface RunPlaylistResult {
  status: 'Complete' | 'Error';
  statusDetail?: string;
}

export interface RunTranscodeResult {
  detected: DetectedProperties;
  outputs: RunOutputResult[];
  /** In the order of `playlists`. */
  playlists: RunPlaylistResult[];
}

export async function runTranscode(job: RunTranscodeInput): Promise<RunTranscodeResult> {
  const { s3, signal } = job;
  await assertInputExists(s3, job.inputBucket, job.inputKey, signal);
  const results: Array<RunOutputResult | undefined> = await Promise.all(
    job.outputs.map(async (o) => {
      const taken = await takenKey(s3, job.outputBucket, outputKeys(o), signal);
      return taken ? failure(3002, ErrorText.outputExists(job.outputBucket, taken)) : undefined;
    }),
  );

  await mkdir(job.tmpRoot, { recursive: true });
  const dir = await mkdtemp(path.join(job.tmpRoot, 'et-job-'));
  const following = new Map<OutputPlan, FollowingUpload>();
  try {
    const inputPath = path.join(dir, 'input');
    await download(s3, job.inputBucket, job.inputKey, inputPath, signal);
    const probe = await probeInput(inputPath, job);
    const detected = detectedProperties(probe);

    const todo = job.outputs.map((o, i) => ({ o, i })).filter(({ i }) => !results[i]);
    for (const { o, i } of todo) if (isHls(o)) await mkdir(path.join(dir, `hls-${i}`));
    for (const { o, i } of todo)
      if (isHls(o) && o.encryption) await writeKeyInfo(path.join(dir, `hls-${i}`), o.encryption);
    const specs = todo.map(({ o, i }) => ({
      preset: o.preset,
      localPath: isHls(o)
        ? path.join(dir, `hls-${i}`, 'index.m3u8')
        : path.join(dir, `output-${i}.${containerExtension(o.preset.Container ?? 'mp4')}`),
      ...(isHls(o) ? { segments: segmentsSpec(path.join(dir, `hls-${i}`), o) } : {}),
      ...(isDash(o) ? { fragments: { seconds: o.segmentSeconds!, ...(o.smooth ? { smooth: true } : {}) } } : {}),
      ...(o.thumbnailPattern
        ? { thumbnailDir: path.join(dir, `thumbnails-${i}`), thumbnailPattern: o.thumbnailPattern }
        : {}),
      ...(o.rotate ? { rotate: o.rotate } : {}),
    }));
    const planInput: PlanInput = {
      inputPath,
      inputFormat: allowedDemuxer(probe.formatName)!,
      probe,
      outputs: specs,
      ...(job.planOptions ? { options: job.planOptions } : {}),
    };
    const plan = planJob(planInput);
    for (const p of plan.outputs) if (p.thumbnails) await mkdir(p.thumbnails.dir, { recursive: true });
    for (const [n, p] of plan.outputs.entries())
      if (p.error) results[todo[n]!.i] = failure(p.error.code, p.error.message, p.notes);
    const outputDone = async (p: OutputPlan, n: number, ok: boolean) => {
      const { i, o } = todo[n]!;
      results[i] = ok
        ? await deliverOutput(job, o, p, following.get(p))
        : failure(4000, ErrorText.transcodeFailed, p.notes);
    };

    const fanOut = fanOutFor(job, planInput, plan, dir);
    if (!fanOut || !(await runFanOut(fanOut, plan, probe, { ...job, scratchDir: dir }, outputDone))) {
      // Outputs written front to back are stored while ffmpeg still writes them.
      for (const [n, p] of plan.outputs.entries()) {
        if (p.error || !p.sequential) continue;
        const target = {
          s3,
          bucket: job.outputBucket,
          key: todo[n]!.o.key,
          contentType: p.expected!.contentType,
          signal,
        };
        following.set(p, new FollowingUpload(target, p.localPath));
      }
      const failedRuns = await runPlan(plan, probe, { ...job, scratchDir: dir }, following);
      await allEnded(plan.outputs.map((p, n) => (p.error ? undefined : outputDone(p, n, !failedRuns.has(p)))));
    }
    const outputs = results.map((r) => r!);
    const playlists = await writePlaylists(job, outputs);
    job.onProgress?.(100);
    return { detected, outputs, playlists };
  } finally {
    await Promise.all([...following.values()].map((f) => f.abort()));
    await rm(dir, { recursive: true, force: true });
  }
}

async function assertInputExists(s3: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<void> {
  if (!(await objectExists(s3, bucket, key, { signal })))
    throw new EngineError(3001, ErrorText.inputMissing(bucket, key));
}

/** A segmented `ts` output: HLS. */
const isHls = (o: RunOutputSpec) => Boolean(o.segmentSeconds) && o.preset.Container === 'ts';
/** A segmented `fmp4` output: one fragmented MP4 with a segment index, for MPEG-DASH. */
const isDash = (o: RunOutputSpec) => Boolean(o.segmentSeconds) && o.preset.Container === 'fmp4';

/** The names an output will take that are known before it is made: checked once, when the job starts. */
function outputKeys(o: RunOutputSpec): string[] {
  if (!isHls(o)) return [o.key];
  if (o.hlsVersion === 4)
    return [
      singleFileKey(o.key),
      variantPlaylistKey(o.key, 4),
      ...(o.preset.Video?.Codec ? [iframePlaylistKey(o.key)] : []),
    ];
  return [segmentKey(o.key, 0), variantPlaylistKey(o.key)];
}

async function takenKey(
  s3: S3Client,
  bucket: string,
  keys: string[],
  signal?: AbortSignal,
): Promise<string | undefined> {
  for (const key of keys) if (await objectExists(s3, bucket, key, { signal })) return key;
  return undefined;
}

async function download(s3: S3Client, bucket: string, key: string, file: string, signal?: AbortSignal): Promise<void> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  if (!res.Body) throw new EngineError(3001, ErrorText.inputMissing(bucket, key));
  await pipeline(res.Body as Readable, createWriteStream(file), { signal });
}

async function probeInput(file: string, job: RunTranscodeInput): Promise<MediaProbe> {
  try {
    return await probeFile(file, probeOptions(job));
  } catch (err) {
    if (err instanceof NotMediaError) throw new EngineError(4000, ErrorText.notMediaBecause(err.message));
    throw err;
  }
}

function probeOptions(job: RunTranscodeInput): ProbeOptions {
  return {
    ...(job.ffprobePath ? { ffprobePath: job.ffprobePath } : {}),
    ...(job.signal ? { signal: job.signal } : {}),
    ...(job.sandbox ? { sandbox: job.sandbox } : {}),
  };
}

/**
 * Runs the plan's single ffmpeg, feeding the following uploads as the outputs grow. If it fails with
 * several outputs, each output is made alone (and uploaded afterwards) so that one bad output does not
 * fail the others. Returns the outputs that could not be made.
 */
async function runPlan(
  plan: JobPlan,
  probe: MediaProbe,
  job: JobInScratch,
  following: Map<OutputPlan, FollowingUpload>,
): Promise<Set<OutputPlan>> {
  const runnable = plan.outputs.filter((o) => !o.error);
  const failed = new Set<OutputPlan>();
  if (plan.argv.length === 0) return failed;
  const progress = progressReporter(probe.durationMillis, job.onProgress);
  const tick = setInterval(() => following.forEach((f) => f.poll()), 250);
  let ok = true;
  try {
    for (const args of plan.argv) ok = (await runFfmpeg(args, job, progress)) && ok;
  } finally {
    clearInterval(tick);
  }
  if (ok) return failed;
  await Promise.all([...following.values()].map((f) => f.abort()));
  following.clear();
  if (runnable.length === 1) return new Set(runnable);
  for (const o of runnable) {
    if (!(await runFfmpeg(o.argv, job, progress))) failed.add(o);
  }
  return failed;
}

/** The fan-out for this job, when the job, the input and the machine call for it. */
function fanOutFor(job: RunTranscodeInput, input: PlanInput, plan: JobPlan, dir: string): FanOutPlan | undefined {
  const when = job.fanOut ?? (availableParallelism() > 1 ? DEFAULT_FAN_OUT : false);
  const { durationMillis = 0, audio } = input.probe;
  if (!when || !audio || durationMillis < when.minDurationMillis) return undefined;
  if ((durationMillis / 1000) * decodedBytesPerSecond(audio) > MAX_DECODED_BYTES) return undefined;
  return planAudioFanOut(input, plan, path.join(dir, 'decoded.nut'));
}

/**
 * Decodes once, then runs every output's encoder at once, storing each output as soon as its encoder is
 * done. False when the decoding failed (nothing made; the caller goes on without the fan-out).
 */
async function runFanOut(
  fanOut: FanOutPlan,
  plan: JobPlan,
  probe: MediaProbe,
  job: JobInScratch,
  outputDone: (p: OutputPlan, n: number, ok: boolean) => Promise<void>,
): Promise<boolean> {
  const progress = progressReporter(probe.durationMillis, job.onProgress);
  // The decoding is about a tenth of the work; then the slowest encoder tells.
  if (!(await runFfmpeg(fanOut.decoder, job, (micros) => progress(micros / 10)))) return false;
  const done = fanOut.encoders.map(() => 0);
  const total = (probe.durationMillis ?? 0) * 1000;
  // When one output fails to be stored, or the job is aborted, the other encoders stop too.
  const stop = new AbortController();
  const signal = job.signal ? AbortSignal.any([job.signal, stop.signal]) : stop.signal;
  try {
    await allEnded(
      fanOut.encoders.map(async ({ output, argv, nice }, k) => {
        const n = plan.outputs.indexOf(output);
        const onTime = (micros: number) => {
          done[k] = micros;
          progress(total / 10 + (Math.min(...done) * 9) / 10);
        };
        try {
          const ok = await runFfmpeg(argv, { ...job, signal }, onTime, nice);
          done[k] = Infinity;
          await outputDone(output, n, ok);
        } catch (err) {
          stop.abort(err);
          throw err;
        }
      }),
    );
    if (job.signal?.aborted) throw job.signal.reason;
  } finally {
    await rm(fanOut.decodedPath, { force: true });
  }
  return true;
}

/** ffmpeg's out_time in microseconds → the job's progress (see progressThrottle). */
function progressReporter(
  durationMillis: number | undefined,
  onProgress?: (pct: number) => void,
): (outTimeMicros: number) => void {
  if (!onProgress || !durationMillis) return () => {};
  const report = progressThrottle(onProgress);
  return (micros) => report(micros / 10 / durationMillis);
}

/** A job with the directory its files are in: all its ffmpeg runs may touch. */
type JobInScratch = RunTranscodeInput & { scratchDir: string };

async function deliverOutput(
  job: RunTranscodeInput,
  spec: RunOutputSpec,
  p: OutputPlan,
  following?: FollowingUpload,
): Promise<RunOutputResult> {
  if (isHls(spec)) return deliverSegmented(job, spec, p);
  const thumbnailBucket = job.thumbnailBucket ?? job.outputBucket;
  const thumbnailFiles = p.thumbnails ? (await readdir(p.thumbnails.dir)).sort() : [];
  const thumbnailKeys = thumbnailFiles.map((_, n) => thumbnailName(p.thumbnails!.pattern, n + 1, p.thumbnails!.format));
  // Elastic Transcoder never overwrites. The output's key was checked when the job started; its thumbnails'
  // names are known only now.
  const takenThumbnail = await takenKey(job.s3, thumbnailBucket, thumbnailKeys, job.signal);
  if (takenThumbnail) return failure(3002, ErrorText.outputExists(thumbnailBucket, takenThumbnail), p.notes);

  const target = {
    s3: job.s3,
    bucket: job.outputBucket,
    key: spec.key,
    contentType: p.expected!.contentType,
    signal: job.signal,
  };
  const contentType = p.thumbnails?.format === 'jpg' ? 'image/jpeg' : 'image/png';
  const [facts] = await allEnded([
    outputFacts(p.localPath, job),
    allEnded([
      following ? following.finish() : uploadFile(target, p.localPath),
      ...thumbnailFiles.map((file, n) =>
        uploadFile(
          { ...target, bucket: thumbnailBucket, key: thumbnailKeys[n]!, contentType },
          path.join(p.thumbnails!.dir, file),
        ),
      ),
    ]),
  ]);
  return {
    status: 'Complete',
    ...facts,
    thumbnailKeys,
    notes: p.notes,
    ...(isDash(spec) && !spec.smooth ? { dash: await dashRepresentation(p.localPath, spec, job) } : {}),
    ...(isDash(spec) && spec.smooth ? { smooth: await smoothQuality(p.localPath, spec) } : {}),
  };
}

/**
 * A Smooth output's tracks as quality levels: codec private data, size or rate, and fragments, from the file's boxes.
 */
async function smoothQuality(file: string, spec: RunOutputSpec): Promise<SmoothQuality[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const read = async (offset: number, length: number) => {
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, offset);
      return buf;
    };
    let moov: Buffer | undefined;
    const fragments: Array<{ trackId: number; time: number; duration: number; bytes: number }> = [];
    // Walk the top-level boxes by their headers; read the small ones (moov, moof) whole.
    for (let at = 0; at + 8 <= size;) {
      const head = await read(at, 16);
      let boxSize = head.readUInt32BE(0);
      if (boxSize === 1) boxSize = Number(head.readBigUInt64BE(8));
      if (boxSize < 8) break;
      const type = head.toString('latin1', 4, 8);
      if (type === 'moov') moov = await read(at, boxSize);
      if (type === 'moof') {
        const t = fragmentTime(await read(at, boxSize));
        if (t) fragments.push({ ...t, bytes: boxSize });
      } else if (type === 'mdat' && fragments.length) fragments.at(-1)!.bytes += boxSize;
      at += boxSize;
    }
    if (!moov) throw new Error('an ismv file without a moov');
    return smoothTracks(moov).map((track) => {
      const own = fragments.filter((f) => f.trackId === track.trackId);
      const seconds = own.reduce((t, f) => t + f.duration, 0) / track.timescale;
      const bytes = own.reduce((t, f) => t + f.bytes, 0);
      return {
        key: spec.key,
        bitrate: seconds > 0 ? Math.round((bytes * 8) / seconds) : 0,
        track,
        chunks: toTicks(own, track.timescale),
      };
    });
  } finally {
    await handle.close();
  }
}

/** A DASH output's representation: where its header and index are, its measured bit rate and codecs. */
async function dashRepresentation(
  file: string,
  spec: RunOutputSpec,
  job: RunTranscodeInput,
): Promise<DashRepresentation> {
  const handle = await open(file, 'r');
  let head: Buffer;
  try {
    const { size } = await handle.stat();
    head = Buffer.alloc(Math.min(size, 8 * 1024 * 1024));
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const layout = dashLayout(head);
  const probe = await probeFile(file, { ...probeOptions(job), demuxers: OUTPUT_DEMUXERS });
  const v = probe.video;
  const a = probe.audio;
  return {
    key: spec.key,
    bandwidth: measuredBandwidth(layout.segments).peak,
    codecs: codecsOf(probe),
    ...(v ? { width: v.width, height: v.height } : {}),
    ...(v?.frameRate ? { frameRate: v.frameRate } : {}),
    ...(!v && a?.sampleRate ? { sampleRate: a.sampleRate } : {}),
    audioOnly: !v,
    layout,
  };
}

/**
 * A segmented output's ffmpeg files: segments, and the key info when encrypted (its key file stays in the job's
 * scratch).
 */
function segmentsSpec(dir: string, o: RunOutputSpec): NonNullable<PlanOutputSpec['segments']> {
  return {
    seconds: o.segmentSeconds!,
    ...(o.hlsVersion === 4
      ? { template: path.join(dir, 'media.ts'), singleFile: true }
      : { template: path.join(dir, 'seg%05d.ts') }),
    ...(o.encryption ? { keyInfoFile: path.join(dir, 'keyinfo') } : {}),
  };
}

async function writeKeyInfo(dir: string, key: SegmentKey): Promise<void> {
  await writeFile(path.join(dir, 'key.bin'), key.key, { mode: 0o600 });
  await writeFile(path.join(dir, 'keyinfo'), keyInfo(key, path.join(dir, 'key.bin')), { mode: 0o600 });
}

const PLAYLIST_TYPE = 'application/x-mpegURL';
const SEGMENT_TYPE = 'video/MP2T';

/**
 * Stores an HLS output: every segment under `<key>NNNNN.ts`, then the media playlist `<key>.m3u8` naming
 * them (last, so that a player never finds a playlist whose segments are missing). Its rendition facts
 * (bandwidth measured on the segments, resolution, codecs) are kept for the master playlists.
 */
async function deliverSegmented(job: RunTranscodeInput, spec: RunOutputSpec, p: OutputPlan): Promise<RunOutputResult> {
  const dir = path.dirname(p.localPath);
  const version: HlsVersion = spec.hlsVersion ?? 3;
  const segments = parseMediaPlaylist(await readFile(p.localPath, 'utf8'));
  const files =
    version === 4
      ? [{ file: path.join(dir, 'media.ts'), key: singleFileKey(spec.key) }]
      : segments.map((s, n) => ({ file: path.join(dir, s.file), key: segmentKey(spec.key, n) }));
  const playlistKey = variantPlaylistKey(spec.key, version);
  const isVideo = Boolean(p.expected?.video);
  const iframeKey = version === 4 && isVideo ? iframePlaylistKey(spec.key) : undefined;
  // The names of outputKeys(spec) were checked when the job started; the later segments' are known only now.
  const checked = new Set(outputKeys(spec));
  const unchecked = [...files.map((f) => f.key), playlistKey, ...(iframeKey ? [iframeKey] : [])].filter(
    (key) => !checked.has(key),
  );
  const taken = await takenKey(job.s3, job.outputBucket, unchecked, job.signal);
  if (taken) return failure(3002, ErrorText.outputExists(job.outputBucket, taken), p.notes);

  const sizes =
    version === 4
      ? segments.map((s) => s.range?.length ?? 0)
      : await Promise.all(files.map(async (f) => (await stat(f.file)).size));
  const sized = segments.map((s, n) => ({ seconds: s.seconds, bytes: sizes[n]! }));
  const target = { s3: job.s3, bucket: job.outputBucket, signal: job.signal };
  for (let n = 0; n < files.length; n += 4) {
    await allEnded(
      files.slice(n, n + 4).map((f) => uploadFile({ ...target, key: f.key, contentType: SEGMENT_TYPE }, f.file)),
    );
  }
  const seconds = segments.reduce((t, s) => t + s.seconds, 0);
  const firstFile = files[0]?.file;
  const first = firstFile
    ? await probeFile(firstFile, { ...probeOptions(job), demuxers: OUTPUT_DEMUXERS }).catch(() => undefined)
    : undefined;
  let iframe: Rendition['iframe'];
  if (iframeKey && firstFile) {
    const frames = iframesOf(await videoPackets(firstFile, job), seconds, (await stat(firstFile)).size);
    await uploadText(job, iframeKey, iframePlaylist(frames, spec.key), dir);
    iframe = {
      playlistKey: iframeKey,
      bandwidth: measuredBandwidth(frames.map((f) => ({ bytes: f.length, seconds: f.seconds }))).peak,
    };
  }
  // The media playlist last, so that a player never finds a playlist whose media is missing.
  await uploadText(job, playlistKey, variantPlaylist(segments, spec.key, spec.segmentSeconds!, spec.encryption), dir);

  const durationMillis = Math.round(seconds * 1000);
  const v = first?.video;
  const rendition: Rendition = {
    key: spec.key,
    playlistKey,
    bandwidth: measuredBandwidth(sized),
    codecs: codecsOf(first),
    ...(v ? { width: v.width, height: v.height } : {}),
    ...(v?.frameRate ? { frameRate: v.frameRate } : {}),
    audioOnly: !v,
    ...(iframe ? { iframe } : {}),
  };
  return {
    status: 'Complete',
    fileSize: sizes.reduce((t, n) => t + n, 0),
    durationMillis,
    duration: Math.round(durationMillis / 1000),
    ...(v ? { width: v.width, height: v.height } : {}),
    ...(v?.frameRate ? { frameRate: formatFrameRate(v.frameRate) } : {}),
    thumbnailKeys: [],
    notes: p.notes,
    rendition,
  };
}

async function uploadText(job: RunTranscodeInput, key: string, text: string, dir: string): Promise<void> {
  const file = path.join(dir, `stored-${path.basename(key).replace(/[^\w.-]/g, '_')}`);
  await writeFile(file, text);
  await uploadFile({ s3: job.s3, bucket: job.outputBucket, key, contentType: PLAYLIST_TYPE, signal: job.signal }, file);
}

/** The video packets of a file in order: time, byte position, keyframe. */
async function videoPackets(
  file: string,
  job: RunTranscodeInput,
): Promise<Array<{ time: number; pos: number; key: boolean }>> {
  const { execFile } = await import('node:child_process');
  const args = [
    '-v',
    'error',
    ...inputRestrictions(['mpegts']),
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time,pos,flags',
    '-of',
    'csv=p=0',
    file,
  ];
  const cmd = (job.sandbox ?? noSandbox).wrap(job.ffprobePath ?? 'ffprobe', args, path.dirname(file));
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(cmd.file, cmd.args, { maxBuffer: 64 * 1024 * 1024, signal: job.signal }, (err, out) =>
      err ? reject(err) : resolve(out),
    ),
  );
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [time, pos, flags] = line.split(',');
      return { time: Number(time), pos: Number(pos), key: (flags ?? '').startsWith('K') };
    })
    .filter((p) => Number.isFinite(p.time) && Number.isFinite(p.pos));
}

/** RFC 6381 codec strings of a probed output (none when it could not be probed). */
function codecsOf(probe: MediaProbe | undefined): string[] {
  const v = probe?.video;
  const a = probe?.audio;
  return codecsAttribute({
    ...(v
      ? {
          video: {
            codec: v.codec,
            ...(v.profile ? { profile: v.profile } : {}),
            ...(v.level ? { level: v.level } : {}),
          },
        }
      : {}),
    ...(a ? { audio: { codec: a.codec, ...(a.profile ? { profile: a.profile } : {}) } } : {}),
  });
}

export const PLAYLIST_DEPENDENCY =
  'Amazon Elastic Transcoder could not generate the playlist because it encountered an error with one or more of the playlists dependencies.';

/**
 * Each master playlist once all its outputs are stored; one whose output failed fails with 1001, as the service did.
 */
async function writePlaylists(job: RunTranscodeInput, outputs: RunOutputResult[]): Promise<RunPlaylistResult[]> {
  const results: RunPlaylistResult[] = [];
  for (const pl of job.playlists ?? []) {
    const members = pl.outputs.map((i) => outputs[i]);
    if (
      !members.every(
        (o) =>
          o?.status === 'Complete' &&
          (pl.version === 'dash' ? o.dash : pl.version === 'smooth' ? o.smooth : o.rendition),
      )
    ) {
      results.push({ status: 'Error', statusDetail: formatStatusDetail(1001, PLAYLIST_DEPENDENCY) });
      continue;
    }
    if (await objectExists(job.s3, job.outputBucket, pl.key, { signal: job.signal })) {
      results.push({
        status: 'Error',
        statusDetail: formatStatusDetail(3002, ErrorText.outputExists(job.outputBucket, pl.key)),
      });
      continue;
    }
    if (pl.keyObject) {
      await job.s3.send(
        new PutObjectCommand({
          Bucket: job.outputBucket,
          Key: pl.keyObject.key,
          Body: pl.keyObject.bytes,
          ContentType: 'application/octet-stream',
        }),
        { abortSignal: job.signal },
      );
    }
    if (pl.version === 'smooth') {
      const clientKey = `${pl.key}c`;
      const qualities = manifestTracks(members.map((o) => o!.smooth!));
      if (await objectExists(job.s3, job.outputBucket, clientKey, { signal: job.signal })) {
        results.push({
          status: 'Error',
          statusDetail: formatStatusDetail(3002, ErrorText.outputExists(job.outputBucket, clientKey)),
        });
        continue;
      }
      await job.s3.send(
        new PutObjectCommand({
          Bucket: job.outputBucket,
          Key: clientKey,
          Body: clientManifest(qualities),
          ContentType: 'text/xml',
        }),
        { abortSignal: job.signal },
      );
      await job.s3.send(
        new PutObjectCommand({
          Bucket: job.outputBucket,
          Key: pl.key,
          Body: serverManifest(clientKey, qualities),
          ContentType: 'application/smil+xml',
        }),
        { abortSignal: job.signal },
      );
      results.push({ status: 'Complete' });
      continue;
    }
    const body =
      pl.version === 'dash'
        ? dashManifest(
            pl.key,
            members.map((o) => o!.dash!),
            Math.max(...members.map((o) => (o!.durationMillis ?? 0) / 1000)),
          )
        : masterPlaylist(
            pl.key,
            members.map((o) => o!.rendition!),
            pl.version,
          );
    const contentType = pl.version === 'dash' ? 'application/dash+xml' : PLAYLIST_TYPE;
    await job.s3.send(
      new PutObjectCommand({ Bucket: job.outputBucket, Key: pl.key, Body: body, ContentType: contentType }),
      { abortSignal: job.signal },
    );
    results.push({ status: 'Complete' });
  }
  return results;
}

async function outputFacts(
  file: string,
  job: RunTranscodeInput,
): Promise<Omit<RunOutputResult, 'status' | 'thumbnailKeys' | 'notes'>> {
  const { size } = await stat(file);
  let probe: MediaProbe | undefined;
  try {
    probe = await probeFile(file, { ...probeOptions(job), demuxers: OUTPUT_DEMUXERS });
  } catch (err) {
    if (!(err instanceof NotMediaError)) throw err;
  }
  const durationMillis = probe?.durationMillis;
  return {
    fileSize: size,
    ...(durationMillis !== undefined ? { durationMillis, duration: Math.round(durationMillis / 1000) } : {}),
    ...(probe?.video ? { width: probe.video.width, height: probe.video.height } : {}),
    ...(probe?.video?.frameRate ? { frameRate: formatFrameRate(probe.video.frameRate) } : {}),
  };
}

/**
 * Like Promise.all, but waits for every promise to end before it rejects with the first failure, so that
 * nothing of a job still runs once the job has moved on.
 */
async function allEnded<T extends readonly unknown[]>(
  promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

function failure(code: number, text: string, notes: string[] = []): RunOutputResult {
  return { status: 'Error', errorCode: code, statusDetail: formatStatusDetail(code, text), thumbnailKeys: [], notes };
}
