import type { FastifyInstance } from 'fastify';
import type { Queue, Worker } from 'bullmq';
import { JobName, QueueName, type NotifyJob, type TranscodeJob } from '@mp/contracts';
import { MediaRepository, MediaTombstonesRepository, NotifyOutbox, TranscodeJobRepository, createDb } from '@mp/db';
import { createLogger, type Logger } from '@mp/logging';
import { createHttpServer, createQueue, createWorker, producerConnection, workerConnection } from '@mp/runtime';
import { createS3Client, s3SettingsFromConfig } from '@mp/storage';
import type { DispatchConfig } from './config';
import { Engine } from './engine';
import { handleTranscode } from './jobs/transcode.job';
import { loadProfile } from './profile';
import { MediaPurge } from './purge';

export interface Dispatch {
  app: FastifyInstance;
  worker: Worker<TranscodeJob>;
  log: Logger;
  outbox: NotifyOutbox;
  purge: MediaPurge;
  /** Stops the sweeps, the server and the worker (running jobs finish), then the connections. */
  close(): Promise<void>;
}

export async function buildDispatch(cfg: DispatchConfig): Promise<Dispatch> {
  const log = createLogger('transcode-dispatch', cfg.LOG_LEVEL);
  const dbh = createDb(cfg.DATABASE_URL);
  const s3 = createS3Client(s3SettingsFromConfig(cfg));
  const engine = Engine.fromConfig(cfg);
  const profile = loadProfile(cfg.OUTPUT_PROFILE);
  const producer = producerConnection(cfg, {
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    log,
  });
  const notify: Queue<NotifyJob> = createQueue<NotifyJob>(QueueName.notify, producer, cfg.QUEUE_PREFIX, log);
  // Only a connection known to be failing short-circuits; one still coming up is given its timeout.
  const redisReady = () => !['reconnecting', 'close', 'end'].includes(producer.status);
  const outbox = new NotifyOutbox(dbh.db, notify, log, redisReady);
  const tombstones = new MediaTombstonesRepository(dbh.db);
  const deps = {
    db: dbh.db,
    media: new MediaRepository(dbh.db),
    jobs: new TranscodeJobRepository(dbh.db),
    tombstones,
    engine,
    s3,
    bucket: cfg.S3_BUCKET,
    profile,
    outbox,
    tmpRoot: cfg.TMP_DIR,
  };
  const purge = new MediaPurge({
    tombstones,
    engine,
    s3,
    bucket: cfg.S3_BUCKET,
    retryMs: cfg.PURGE_RETRY_MS,
    retentionMs: cfg.PURGE_RETENTION_MS,
    log,
  });
  const connection = workerConnection(cfg);
  const worker = createWorker({
    queue: QueueName.transcode,
    connection,
    prefix: cfg.QUEUE_PREFIX,
    logger: log,
    overrides: { concurrency: cfg.CONCURRENCY },
    handlers: {
      [JobName.transcode]: (job, jobLog) => handleTranscode(deps, job, jobLog),
    },
  });

  const { app } = createHttpServer({
    service: 'transcode-dispatch',
    logger: log,
    readiness: {
      postgres: () => dbh.sql`select 1`,
      redis: () => connection.ping(),
      engine: () => engine.pipeline(),
    },
  });

  const sweeps = [
    every(
      cfg.OUTBOX_SWEEP_INTERVAL_MS,
      () => outbox.sweep(cfg.OUTBOX_MIN_AGE_MS),
      (err) => log.warn({ err }, 'outbox sweep failed'),
    ),
    every(
      cfg.PURGE_SWEEP_INTERVAL_MS,
      () => purge.sweep(),
      (err) => log.warn({ err }, 'purge sweep failed'),
    ),
  ];

  return {
    app,
    worker,
    log,
    outbox,
    purge,
    async close() {
      for (const s of sweeps) s.stop();
      await Promise.all(sweeps.map((s) => s.idle()));
      await app.close();
      await worker.close();
      await notify.close().catch(() => {});
      connection.disconnect();
      producer.disconnect();
      engine.close();
      s3.destroy();
      await dbh.close();
    },
  };
}

/** Runs fn every intervalMs, one run at a time; `idle` waits for a run in progress. */
function every(intervalMs: number, fn: () => Promise<unknown>, onError: (message: string) => void) {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = fn()
      .catch((err: unknown) => onError((err as Error).message))
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), idle: () => running };
}
