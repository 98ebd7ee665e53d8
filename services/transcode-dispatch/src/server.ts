import type { FastifyInstance } from 'fastify';
import type { Queue, Worker } from 'bullmq';
import { JobName, QueueName, type NotifyJob, type TranscodeJob } from '@mp/contracts';
import { MediaRepository, TranscodeJobRepository, createDb } from '@mp/db';
import { createLogger, type Logger } from '@mp/logging';
import { createHttpServer, createQueue, createWorker, producerConnection, workerConnection } from '@mp/runtime';
import { createS3Client, s3SettingsFromConfig } from '@mp/storage';
import type { DispatchConfig } from './config';
import { Engine } from './engine';
import { handleTranscode } from './jobs/transcode.job';
import { loadProfile } from './profile';

export interface Dispatch {
  app: FastifyInstance;
  worker: Worker<TranscodeJob>;
  log: Logger;
  close(): Promise<void>;
}

export async function buildDispatch(cfg: DispatchConfig): Promise<Dispatch> {
  const log = createLogger('transcode-dispatch', cfg.LOG_LEVEL);
  const dbh = createDb(cfg.DATABASE_URL);
  const s3 = createS3Client(s3SettingsFromConfig(cfg));
  const engine = Engine.fromConfig(cfg);
  const profile = loadProfile(cfg.OUTPUT_PROFILE);
  const producer = producerConnection(cfg.REDIS_URL, { maxRetriesPerRequest: 3, enableOfflineQueue: true });
  producer.on('error', () => {});
  const notify: Queue<NotifyJob> = createQueue<NotifyJob>(QueueName.notify, producer, cfg.QUEUE_PREFIX);
  const deps = {
    media: new MediaRepository(dbh.db),
    jobs: new TranscodeJobRepository(dbh.db),
    engine,
    s3,
    bucket: cfg.S3_BUCKET,
    profile,
    notify,
    tmpRoot: cfg.TMP_DIR,
  };
  const connection = workerConnection(cfg.REDIS_URL);
  const worker = createWorker<TranscodeJob>({
    queue: QueueName.transcode,
    connection,
    prefix: cfg.QUEUE_PREFIX,
    logger: log,
    concurrency: cfg.CONCURRENCY,
    handlers: { [JobName.transcode]: (job, jobLog) => handleTranscode(deps, job, jobLog) },
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

  return {
    app,
    worker,
    log,
    async close() {
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
