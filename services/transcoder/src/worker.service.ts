import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import { SNSClient } from '@aws-sdk/client-sns';
import { DelayedError } from 'bullmq';
import { createLogger, type Logger } from '@mp/logging';
import { JobName, QueueName } from '@mp/contracts';
import { createWorker, producerConnection, workerConnection } from '@mp/runtime';
import { createS3Client, isNoSuchBucket, s3SettingsFromConfig } from '@mp/storage';
import type { TranscoderConfig } from './config';
import { openDb } from './db/client';
import { DeliveriesRepository, SigningIdentityRepository } from './deliveries.repository';
import { EngineError, runTranscode } from './engine/run';
import { detectSandbox } from './engine/sandbox';
import { makeScratch, removeStaleScratch } from './engine/scratch';
import { deliverNotification, RetryLater } from './jobs/deliver.job';
import { handleEngineJob, type EngineJobDeps, type EngineRun } from './jobs/engine-job.job';
import { JobsRepository } from './jobs.repository';
import { targetsFromConfig } from './notifications/outbox';
import { loadSigningIdentity } from './notifications/signing';
import { PresetsRepository } from './presets.repository';
import { createQueues } from './queues';

// How long a held job waits before it looks again: a Paused pipeline, or a pipeline at its concurrency limit.
const PAUSED_RECHECK_MS = 5000;
const BUSY_RECHECK_MS = 1000;
/** A pending delivery older than this has lost its queue entry (or is being retried). */
const STALE_DELIVERY_MS = 60_000;

/** A worker without ffmpeg would fail every job: refuse to start instead. */
async function requireTool(bin: string): Promise<void> {
  try {
    await promisify(execFile)(bin, ['-version'], { timeout: 10_000 });
  } catch (err) {
    throw new Error(`${bin} -version failed (${(err as Error).message}); set FFMPEG_PATH / FFPROBE_PATH`);
  }
}

/** The job-processing error code of a failure, when it is the job's fault rather than the engine's. */
function serviceError(err: unknown): { code: number; message: string } | undefined {
  if (err instanceof EngineError) return { code: err.code, message: err.message };
  if (isNoSuchBucket(err)) {
    const bucket = (err as { BucketName?: string }).BucketName ?? 'unknown';
    return { code: 3005, message: `The specified bucket does not exist: bucket=${bucket}.` };
  }
  return undefined;
}

export interface TranscoderWorker {
  /** This process's lease owner id. */
  owner: string;
  log: Logger;
  /** One pass of the sweep: queue jobs and deliveries whose queue entry was lost. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The worker: takes Elastic Transcoder jobs off the queue and runs ffmpeg through the engine core, and
 * delivers notifications. Any number of these processes can run side by side.
 */
export async function startWorker(
  config: TranscoderConfig,
  opts: { logger?: Logger; run?: EngineRun } = {},
): Promise<TranscoderWorker> {
  const log = opts.logger ?? createLogger('transcoder-worker', config.LOG_LEVEL);
  await requireTool(config.FFMPEG_PATH);
  await requireTool(config.FFPROBE_PATH);
  const handle = openDb(config.DATABASE_URL);
  const s3 = createS3Client(s3SettingsFromConfig(config));
  const sns = config.SNS_ENDPOINT
    ? new SNSClient({
        endpoint: config.SNS_ENDPOINT,
        region: config.SNS_REGION,
        credentials: {
          accessKeyId: config.AWS_ACCESS_KEY_ID,
          secretAccessKey: config.AWS_SECRET_ACCESS_KEY,
        },
      })
    : undefined;
  const producer = producerConnection(config, { log });
  const queues = createQueues(producer, config.QUEUE_PREFIX, log);
  const jobs = new JobsRepository(handle.db);
  const deliveries = new DeliveriesRepository(handle.db);
  const presets = new PresetsRepository(handle.db);
  const identity = await loadSigningIdentity(config, new SigningIdentityRepository(handle.db));
  const owner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const shutdown = new AbortController();
  await mkdir(config.ET_TMP_DIR, { recursive: true });
  for (const dir of await removeStaleScratch(config.ET_TMP_DIR))
    log.info({ dir }, 'removed the scratch files of a worker that is gone');
  const scratch = await makeScratch(config.ET_TMP_DIR);
  const { sandbox, reason } = await detectSandbox(config.FFMPEG_SANDBOX, {
    bwrapPath: config.BWRAP_PATH,
    probeCommand: config.FFPROBE_PATH,
  });
  if (sandbox.kind === 'none') log.warn({ reason }, 'ffmpeg runs without a sandbox');
  else log.info({ sandbox: sandbox.kind }, 'ffmpeg runs in a sandbox');

  const scope = { region: config.ET_REGION, accountId: config.ET_ACCOUNT_ID };
  /** Jobs this worker is running now. */
  let running = 0;
  const transcodeDeps: EngineJobDeps = {
    jobs,
    s3,
    run:
      opts.run ??
      ((job) =>
        runTranscode({
          ...job,
          ffmpegPath: config.FFMPEG_PATH,
          ffprobePath: config.FFPROBE_PATH,
          sandbox,
          // Side-by-side encoders only while this worker runs nothing else: when it is busy, the cores are
          // too, and one ffmpeg per job does the same work with less CPU.
          fanOut:
            config.ET_FAN_OUT_MIN_SECONDS === 'off' || os.availableParallelism() < 2 || running > 1
              ? false
              : { minDurationMillis: config.ET_FAN_OUT_MIN_SECONDS * 1000 },
        })),
    engineError: serviceError,
    resolvePreset: (id) => presets.find(id, scope),
    targetsOf: targetsFromConfig({
      snsEnabled: Boolean(sns),
      subscriptions: config.ET_DELIVERY_SUBSCRIPTIONS,
    }),
    enqueueDeliveries: (ids) =>
      queues
        .enqueueDeliveries(ids)
        .catch((err: Error) =>
          log.warn({ err: err.message }, 'enqueue of deliveries failed; the sweep will queue them'),
        ),
    owner,
    leaseMs: config.ET_LEASE_MS,
    pipelineConcurrency: config.PIPELINE_CONCURRENCY,
    progressIntervalMs: config.ET_PROGRESS_INTERVAL_MS,
    tmpRoot: scratch,
    log,
  };

  const transcodeWorker = createWorker({
    queue: QueueName.etTranscode,
    connection: workerConnection(config),
    prefix: config.QUEUE_PREFIX,
    logger: log,
    // A killed worker's entry returns to the queue once its lock lapses; the Postgres lease decides who runs it.
    overrides: {
      concurrency: config.WORKER_CONCURRENCY,
      lockDuration: config.ET_LEASE_MS,
      stalledInterval: config.ET_LEASE_MS,
    },
    onFailed: (job, err) =>
      log.warn(
        {
          etJobId: job?.data.jobId,
          attempts: job?.attemptsMade,
          err: err.message,
        },
        'transcode attempt failed',
      ),
    handlers: {
      [JobName.etTranscode]: async (job, _log, token) => {
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        running++;
        const outcome = await handleEngineJob(job.data.jobId, transcodeDeps, {
          signal: shutdown.signal,
          lastAttempt,
        }).finally(() => running--);
        if (outcome === 'paused' || outcome === 'busy') {
          await job.moveToDelayed(Date.now() + (outcome === 'paused' ? PAUSED_RECHECK_MS : BUSY_RECHECK_MS), token);
          throw new DelayedError();
        }
        return outcome;
      },
    },
  });

  const deliverDeps = {
    deliveries,
    sns,
    identity,
    publicUrl: config.ET_PUBLIC_URL,
    log,
  };
  const deliverWorker = createWorker({
    queue: QueueName.etDeliver,
    connection: workerConnection(config),
    prefix: config.QUEUE_PREFIX,
    logger: log,
    onFailed: (job, err) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      const level = err instanceof RetryLater && !final ? 'info' : 'warn';
      log[level](
        {
          deliveryId: job.data.deliveryId,
          attempts: job.attemptsMade,
          err: err.message,
        },
        final ? 'delivery gave up' : 'delivery will be retried',
      );
      if (final) void deliveries.failed(job.data.deliveryId, err.message).catch(() => {});
    },
    handlers: {
      [JobName.etDeliver]: (job) => deliverNotification(job.data.deliveryId, deliverDeps),
    },
  });

  async function sweep() {
    for (const id of await jobs.unfinished()) await queues.requeueJob(id);
    for (const id of await deliveries.stale(STALE_DELIVERY_MS)) await queues.requeueDelivery(id);
  }
  const runSweep = () => void sweep().catch((err: Error) => log.warn({ err: err.message }, 'sweep failed'));
  const sweeper = setInterval(runSweep, config.ET_SWEEP_INTERVAL_MS);
  runSweep();
  log.info(
    {
      owner,
      concurrency: config.WORKER_CONCURRENCY,
      pipelineConcurrency: config.PIPELINE_CONCURRENCY,
    },
    'transcoder worker started',
  );

  return {
    owner,
    log,
    sweep,
    async close() {
      clearInterval(sweeper);
      // Running ffmpeg stops; each job gives its lease back and its queue entry is retried elsewhere.
      shutdown.abort(new Error('worker shutting down'));
      await Promise.all([transcodeWorker.close(), deliverWorker.close()]);
      await queues.close().catch(() => {});
      producer.disconnect();
      s3.destroy();
      sns?.destroy();
      await handle.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
