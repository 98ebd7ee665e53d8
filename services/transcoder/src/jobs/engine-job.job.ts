import type { S3Client } from '@aws-sdk/client-s3';
import type { EtState } from '@mp/contracts';
import type { Logger } from '@mp/logging';
import { deleteKeys, listKeys } from '@mp/storage';
import path from 'node:path';
import type { JobPlaylist } from '../db/schema';
import type { SegmentKey } from '../engine/hls';
import {
  formatStatusDetail,
  PLAYLIST_DEPENDENCY,
  type RunOutputResult,
  type RunOutputSpec,
  type RunPlaylistResult,
  type RunPlaylistSpec,
  type RunTranscodeInput,
  type RunTranscodeResult,
} from '../engine/run';
import { progressThrottle } from '../engine/progress';
import type { DetectedProperties, EtPreset } from '../engine/types';
import type { JobRecord, OutputRow, PipelineRow } from '../et/wire';
import type { JobResult, JobsRepository, OutputResult, Tx } from '../jobs.repository';
import { recordNotification, type TargetsOf } from '../notifications/outbox';

export type EngineRun = (job: RunTranscodeInput) => Promise<RunTranscodeResult>;
type EngineOutputSpec = RunOutputSpec;
type EngineOutputResult = RunOutputResult;

export interface EngineJobDeps {
  jobs: JobsRepository;
  s3: S3Client;
  run: EngineRun;
  /** The engine's error with a service error code (3001, 4000, …), or undefined for any other error. */
  engineError: (err: unknown) => { code: number; message: string } | undefined;
  resolvePreset: (id: string) => Promise<EtPreset | undefined>;
  targetsOf: TargetsOf;
  enqueueDeliveries: (ids: string[]) => Promise<void>;
  owner: string;
  leaseMs: number;
  pipelineConcurrency: number;
  progressIntervalMs: number;
  tmpRoot: string;
  log: Logger;
}

export type EngineJobOutcome = 'finished' | 'paused' | 'busy' | 'gone' | 'lost';

/** "<code> <uuid>: <text>", the service's StatusDetail / messageDetails form (at most 255 characters). */
const statusDetail = formatStatusDetail;

/**
 * Runs one Elastic Transcoder job: claim it, emit PROGRESSING, make every output its preset asks for, then
 * record the outcome and emit COMPLETED or ERROR. A crash anywhere leaves a lease that lapses, and the job is
 * claimed again; only the holder of the lease can end it.
 */
export async function handleEngineJob(
  jobId: string,
  deps: EngineJobDeps,
  opts: { signal: AbortSignal; lastAttempt: boolean },
): Promise<EngineJobOutcome> {
  const queued: string[] = [];
  const notify = (state: EtState, progress?: number) => async (tx: Tx, job: JobRecord, pipeline: PipelineRow) => {
    queued.push(
      ...(await recordNotification(tx, {
        state,
        job,
        pipeline,
        targetsOf: deps.targetsOf,
        ...(progress === undefined ? {} : { progress }),
      })),
    );
  };
  const claim = await deps.jobs.claim(
    jobId,
    deps.owner,
    { leaseMs: deps.leaseMs, limit: deps.pipelineConcurrency, nowMs: Date.now() },
    notify('PROGRESSING'),
  );
  if (claim.kind !== 'claimed') return claim.kind === 'done' ? 'gone' : claim.kind;
  await deps.enqueueDeliveries(queued.splice(0));
  const { job, pipeline, attempt } = claim;
  const log = deps.log.child({ etJobId: job.id, pipelineId: pipeline.id, attempt });
  log.info('transcoding');

  const lease = holdLease(job.id, deps, opts.signal, log);
  let result: JobResult;
  try {
    result = await produceOutputs(job, pipeline, attempt, lease, deps, log);
  } catch (err) {
    lease.stop();
    if (lease.signal.aborted) {
      // A release that fails leaves the lease to lapse, and another worker takes the job then.
      await deps.jobs
        .release(job.id, deps.owner)
        .catch((e: Error) => log.warn({ err: e.message }, 'lease release failed; it lapses'));
      if (lease.lost) return 'lost';
      throw err;
    }
    if (!opts.lastAttempt) throw err;
    log.error({ err: (err as Error).message }, 'giving up on job after repeated internal errors');
    result = internalError(job, err as Error);
  }
  lease.stop();

  const finishState = (r: JobResult): EtState => (r.status === 'Complete' ? 'COMPLETED' : 'ERROR');
  const finished = await deps.jobs.finish(job.id, deps.owner, result, Date.now(), (tx, record) =>
    notify(finishState(result))(tx, record, pipeline),
  );
  if (!finished) {
    log.warn('lease lost before the result was recorded; another worker owns the job');
    return 'lost';
  }
  await deps.enqueueDeliveries(queued.splice(0));
  log.info({ status: finished.status }, 'job finished');
  return 'finished';
}

interface Lease {
  signal: AbortSignal;
  lost: boolean;
  progress(pct: number): void;
  stop(): void;
}

/** Heartbeats the lease and forwards throttled progress; aborts the run when the lease is lost or on shutdown. */
function holdLease(jobId: string, deps: EngineJobDeps, shutdown: AbortSignal, log: Logger): Lease {
  const controller = new AbortController();
  const onShutdown = () => controller.abort(shutdown.reason);
  shutdown.addEventListener('abort', onShutdown, { once: true });
  if (shutdown.aborted) controller.abort(shutdown.reason);
  const state: Lease = {
    signal: controller.signal,
    lost: false,
    progress: () => {},
    stop: () => {
      clearInterval(timer);
      shutdown.removeEventListener('abort', onShutdown);
    },
  };
  const beat = async (progress?: number) => {
    const held = await deps.jobs.heartbeat(jobId, deps.owner, deps.leaseMs, progress).catch((err: Error) => {
      log.warn({ err: err.message }, 'heartbeat failed');
      return true;
    });
    if (!held && !state.lost) {
      state.lost = true;
      log.warn('lease lost; stopping');
      controller.abort(new Error('lease lost'));
    }
  };
  const timer = setInterval(() => void beat(), Math.max(200, Math.floor(deps.leaseMs / 3)));
  state.progress = progressThrottle(
    (pct) =>
      void reportProgress(jobId, pct, deps).catch((err: Error) =>
        log.warn({ err: err.message }, 'progress update failed'),
      ),
    { minIntervalMs: deps.progressIntervalMs },
  );
  return state;
}

async function reportProgress(jobId: string, pct: number, deps: EngineJobDeps): Promise<void> {
  const queued = await deps.jobs.progress(jobId, deps.owner, deps.leaseMs, pct, async (tx, job, pipeline) =>
    recordNotification(tx, { state: 'PROGRESSING', job, pipeline, targetsOf: deps.targetsOf, progress: pct }),
  );
  await deps.enqueueDeliveries(queued);
}

async function produceOutputs(
  job: JobRecord,
  pipeline: PipelineRow,
  attempt: number,
  lease: Lease,
  deps: EngineJobDeps,
  log: Logger,
): Promise<JobResult> {
  const outputBucket = pipeline.contentConfig.Bucket ?? pipeline.outputBucket!;
  const thumbnailBucket = pipeline.thumbnailConfig.Bucket ?? outputBucket;
  const results = new Map<string, OutputResult>();
  const toRun: Array<{ row: OutputRow; spec: EngineOutputSpec }> = [];

  for (const row of job.outputs) {
    if (row.status === 'Error') continue;
    const key = `${job.outputKeyPrefix ?? ''}${row.key}`;
    const preset = await deps.resolvePreset(row.presetId);
    if (!preset) {
      results.set(row.outputId, failed(row, 1000, `The specified preset was not found: presetId=${row.presetId}.`));
      continue;
    }
    // An output whose name is taken is the engine's to fail (3002): it checks every output's names once.
    if (attempt > 1) {
      // A worker that died mid-job may have written some of this job's outputs: they are ours to replace.
      await removeEarlierAttempt(
        deps.s3,
        { outputBucket, thumbnailBucket },
        key,
        row.spec.ThumbnailPattern ? `${job.outputKeyPrefix ?? ''}${row.spec.ThumbnailPattern}` : undefined,
        log,
      );
      if (row.spec.SegmentDuration) await removeMatching(deps.s3, outputBucket, key, segmentedNames(key));
    }
    const spec: EngineOutputSpec = { key, preset };
    if (row.spec.SegmentDuration) spec.segmentSeconds = Number(row.spec.SegmentDuration);
    const encryption = segmentKeyOf(job, row.key);
    if (encryption) spec.encryption = encryption;
    // A segmented output is HLSv3 unless it is in an HLSv4 playlist (job-settings.md, "Output Key").
    if (job.playlists.some((p) => p.Format === 'HLSv4' && p.OutputKeys.includes(row.key))) spec.hlsVersion = 4;
    if (job.playlists.some((p) => p.Format === 'Smooth' && p.OutputKeys.includes(row.key))) spec.smooth = true;
    if (row.spec.ThumbnailPattern) spec.thumbnailPattern = `${job.outputKeyPrefix ?? ''}${row.spec.ThumbnailPattern}`;
    if (row.spec.Rotate) spec.rotate = row.spec.Rotate;
    toRun.push({ row, spec });
  }

  const playlists = planPlaylists(
    job,
    toRun.map((o) => o.row),
  );
  if (attempt > 1) {
    for (const { run } of playlists) {
      const keys = run
        ? [run.key, ...(run.version === 'smooth' ? [`${run.key}c`] : []), ...(run.keyObject ? [run.keyObject.key] : [])]
        : [];
      await deleteKeys(deps.s3, outputBucket, keys);
    }
  }
  let detected: DetectedProperties | undefined;
  let playlistResults: JobPlaylist[] = playlists.map((pl) => failedPlaylist(pl.playlist));
  if (toRun.length > 0) {
    try {
      const out = await deps.run({
        s3: deps.s3,
        inputBucket: pipeline.inputBucket,
        inputKey: job.input.Key,
        outputBucket,
        thumbnailBucket,
        outputs: toRun.map((o) => o.spec),
        playlists: playlists.flatMap((pl) => (pl.run ? [pl.run] : [])),
        logger: log,
        tmpRoot: deps.tmpRoot,
        signal: lease.signal,
        onProgress: (pct) => lease.progress(pct),
      });
      detected = out.detected;
      toRun.forEach(({ row }, i) => results.set(row.outputId, fromEngine(row, out.outputs[i])));
      const engineResults = [...out.playlists];
      playlistResults = playlists.map((pl) =>
        pl.run ? { ...pl.playlist, ...playlistResult(engineResults.shift()) } : failedPlaylist(pl.playlist),
      );
    } catch (err) {
      const engineError = lease.signal.aborted ? undefined : deps.engineError(err);
      if (!engineError) throw err;
      log.info({ code: engineError.code, err: engineError.message }, 'job failed');
      const detail = statusDetail(engineError.code, engineError.message);
      for (const { row } of toRun)
        results.set(row.outputId, {
          outputId: row.outputId,
          status: 'Error',
          errorCode: engineError.code,
          statusDetail: detail,
        });
      return {
        status: 'Error',
        errorCode: engineError.code,
        errorDetail: detail,
        outputs: [...results.values()],
        playlists: playlistResults,
      };
    }
  }
  const outputs = job.outputs.map((row) => results.get(row.outputId) ?? existingError(row));
  const complete =
    outputs.every((o) => o.status === 'Complete') && playlistResults.every((p) => p.Status === 'Complete');
  return {
    status: complete ? 'Complete' : 'Error',
    detected: detected as Record<string, unknown> | undefined,
    outputs,
    playlists: playlistResults,
  };
}

/**
 * The job's playlists, each with what the engine needs to write it (its master key and the indexes of
 * its outputs among those that run), or none when one of its outputs failed before the run.
 */
function planPlaylists(job: JobRecord, running: OutputRow[]): Array<{ playlist: JobPlaylist; run?: RunPlaylistSpec }> {
  return job.playlists.map((playlist) => {
    const indexes = playlist.OutputKeys.map((key) => running.findIndex((row) => row.key === key));
    if (indexes.some((i) => i < 0)) return { playlist };
    const cp = playlist.HlsContentProtection;
    const keyObject =
      cp?.KeyStoragePolicy === 'WithVariantPlaylists'
        ? { key: keyObjectKey(job, playlist), bytes: Buffer.from(cp.Key, 'base64') }
        : undefined;
    const version =
      playlist.Format === 'MPEG-DASH'
        ? 'dash'
        : playlist.Format === 'Smooth'
          ? 'smooth'
          : playlist.Format === 'HLSv4'
            ? 4
            : 3;
    const extension = version === 'dash' ? '.mpd' : version === 'smooth' ? '.ism' : '.m3u8';
    return {
      playlist,
      run: {
        key: `${job.outputKeyPrefix ?? ''}${playlist.Name}${extension}`,
        outputs: indexes,
        version,
        ...(keyObject ? { keyObject } : {}),
      },
    };
  });
}

/** WithVariantPlaylists: the key beside the playlists, `<OutputKeyPrefix><Name>.key`. */
function keyObjectKey(job: JobRecord, playlist: JobPlaylist): string {
  return `${job.outputKeyPrefix ?? ''}${playlist.Name}.key`;
}

/** The AES-128 key of an output in an encrypted playlist, and the URI its media playlist names it by. */
function segmentKeyOf(job: JobRecord, outputKey: string): SegmentKey | undefined {
  const playlist = job.playlists.find((p) => p.HlsContentProtection && p.OutputKeys.includes(outputKey));
  const cp = playlist?.HlsContentProtection;
  if (!playlist || !cp) return undefined;
  const media = `${job.outputKeyPrefix ?? ''}${outputKey}.m3u8`;
  const uri =
    cp.KeyStoragePolicy === 'WithVariantPlaylists'
      ? path.posix.relative(path.posix.dirname(`/${media}`), `/${keyObjectKey(job, playlist)}`)
      : cp.LicenseAcquisitionUrl!;
  return { key: Buffer.from(cp.Key, 'base64'), iv: Buffer.from(cp.InitializationVector, 'base64'), uri };
}

function failedPlaylist(p: JobPlaylist): JobPlaylist {
  return { ...p, Status: 'Error', StatusDetail: statusDetail(1001, PLAYLIST_DEPENDENCY) };
}

function playlistResult(r: RunPlaylistResult | undefined): Pick<JobPlaylist, 'Status' | 'StatusDetail'> {
  if (!r)
    return { Status: 'Error', StatusDetail: statusDetail(9000, 'The engine returned no result for this playlist.') };
  return { Status: r.status, ...(r.statusDetail ? { StatusDetail: r.statusDetail } : {}) };
}

/**
 * A segmented output's own objects: `<key>NNNNN.ts` and `<key>.m3u8`, or HLSv4's `<key>.ts`, `<key>_v4.m3u8`,
 * `<key>_iframe.m3u8`.
 */
function segmentedNames(key: string): RegExp {
  return new RegExp(
    `^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d{5}\\.ts|\\.ts|\\.m3u8|_v4\\.m3u8|_iframe\\.m3u8)$`,
  );
}

async function removeMatching(s3: S3Client, bucket: string, prefix: string, match: RegExp): Promise<void> {
  await deleteKeys(
    s3,
    bucket,
    (await listKeys(s3, bucket, prefix)).filter((key) => match.test(key)),
  );
}

function fromEngine(row: OutputRow, r: EngineOutputResult | undefined): OutputResult {
  if (!r) return failed(row, 9000, 'The engine returned no result for this output.');
  if (r.status !== 'Complete') {
    const code = r.errorCode ?? 4000;
    const text = r.statusDetail ?? 'Amazon Elastic Transcoder could not interpret the media file.';
    return {
      outputId: row.outputId,
      status: 'Error',
      errorCode: code,
      statusDetail: /^\d{4} [0-9a-f-]{36}:/.test(text) ? text : statusDetail(code, text),
    };
  }
  // Like the service's own "created an output file that is shorter…" remarks on a Complete output.
  const remarks = r.notes?.length ? r.notes.join(' ').slice(0, 255) : undefined;
  return {
    outputId: row.outputId,
    status: 'Complete',
    statusDetail: r.statusDetail ?? remarks,
    duration: r.duration,
    durationMillis: r.durationMillis,
    width: r.width,
    height: r.height,
    fileSize: r.fileSize,
    frameRate: r.frameRate,
    thumbnailKeys: r.thumbnailKeys,
  };
}

function failed(row: OutputRow, code: number, text: string): OutputResult {
  return { outputId: row.outputId, status: 'Error', errorCode: code, statusDetail: statusDetail(code, text) };
}

function existingError(row: OutputRow): OutputResult {
  return {
    outputId: row.outputId,
    status: 'Error',
    errorCode: row.errorCode ?? undefined,
    statusDetail: row.statusDetail ?? undefined,
  };
}

function internalError(job: JobRecord, err: Error): JobResult {
  const detail = statusDetail(
    9000,
    `Amazon Elastic Transcoder encountered an internal error: ${err.message}`.slice(0, 200),
  );
  return {
    status: 'Error',
    errorCode: 9000,
    errorDetail: detail,
    outputs: job.outputs.map((row) =>
      row.status === 'Error'
        ? existingError(row)
        : { outputId: row.outputId, status: 'Error', errorCode: 9000, statusDetail: detail },
    ),
    playlists: job.playlists.map(failedPlaylist),
  };
}

async function removeEarlierAttempt(
  s3: S3Client,
  buckets: { outputBucket: string; thumbnailBucket: string },
  key: string,
  thumbnailPattern: string | undefined,
  log: Logger,
) {
  await deleteKeys(s3, buckets.outputBucket, [key]);
  if (!thumbnailPattern) return;
  await removeMatching(
    s3,
    buckets.thumbnailBucket,
    thumbnailPattern.slice(0, thumbnailPattern.indexOf('{')),
    thumbnailMatcher(thumbnailPattern),
  );
  log.info({ key }, 'removed outputs of an earlier attempt');
}

/** Keys a thumbnail pattern produces: {count} is five digits, {resolution} is WxH, then .jpg or .png. */
export function thumbnailMatcher(pattern: string): RegExp {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const body = escaped.replace(/\\\{count\\\}/g, '\\d{5}').replace(/\\\{resolution\\\}/g, '\\d+x\\d+');
  return new RegExp(`^${body}\\.(jpg|png)$`);
}
