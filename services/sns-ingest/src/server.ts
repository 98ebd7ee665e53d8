import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import { QueueName, type NotifyJob, type TranscodeJob } from '@mp/contracts';
import { createDb, runMigrations } from '@mp/db';
import { createLogger, type Logger } from '@mp/logging';
import { createHttpServer, createQueue, producerConnection, prom } from '@mp/runtime';
import { createCertificateCache, type VerifyEnvelopeOptions } from '@mp/sns';
import { createS3Client, s3SettingsFromConfig } from '@mp/storage';
import type { SnsIngestConfig } from './config';
import { IngestService } from './ingest.service';
import { NotifyOutbox } from './notify-outbox';
import { registerSnsRoutes } from './routes/sns.routes';

export interface SnsIngest {
  app: FastifyInstance;
  log: Logger;
  notifyQueue: Queue<NotifyJob>;
  transcodeQueue: Queue<TranscodeJob>;
  outbox: NotifyOutbox;
  /** Stops the outbox sweep, closes the server (in-flight deliveries finish), then queues and pools. */
  close(): Promise<void>;
}

const migrationsFolder = new URL('../drizzle', import.meta.url).pathname;

/** The shared tables, then this service's own (sns_ingest schema). */
export async function migrateSnsIngest(databaseUrl: string): Promise<void> {
  await runMigrations(databaseUrl);
  await runMigrations(databaseUrl, {
    folder: migrationsFolder,
    table: '__migrations_sns_ingest',
  });
}

export async function buildSnsIngest(cfg: SnsIngestConfig): Promise<SnsIngest> {
  const log = createLogger('sns-ingest', cfg.LOG_LEVEL);
  const dbh = createDb(cfg.DATABASE_URL);
  const s3 = createS3Client(s3SettingsFromConfig(cfg));
  const redis = producerConnection(cfg, { log });
  const notifyQueue = createQueue<NotifyJob>(QueueName.notify, redis, cfg.QUEUE_PREFIX, log);
  const transcodeQueue = createQueue<TranscodeJob>(QueueName.transcode, redis, cfg.QUEUE_PREFIX, log);
  // Only a connection known to be failing short-circuits; one still coming up is given its timeout.
  const redisReady = () => !['reconnecting', 'close', 'end'].includes(redis.status);
  const outbox = new NotifyOutbox(dbh.db, notifyQueue, log, redisReady);

  const { app, metrics } = createHttpServer({
    service: 'sns-ingest',
    logger: log,
    readiness: { postgres: () => dbh.sql`select 1`, redis: () => redis.ping() },
    limits: {
      headersTimeoutMs: cfg.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: cfg.HTTP_REQUEST_TIMEOUT_MS,
    },
  });
  const messages = new prom.Counter({
    name: 'sns_messages_total',
    help: 'SNS deliveries by message type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [metrics.registry],
  });

  const urlPolicy = {
    allowedHosts: cfg.SNS_ALLOWED_CERT_HOSTS,
    requireHttps: cfg.SNS_REQUIRE_HTTPS,
  };
  const verify: VerifyEnvelopeOptions = {
    ...urlPolicy,
    allowedTopicArns: cfg.SNS_ALLOWED_TOPIC_ARNS,
    maxAgeMs: cfg.SNS_MAX_AGE_SECONDS * 1000,
    certificates: createCertificateCache({
      ttlMs: cfg.SNS_CERT_CACHE_TTL_SECONDS * 1000,
      timeoutMs: cfg.SNS_FETCH_TIMEOUT_MS,
    }),
  };
  const ingest = new IngestService({
    db: dbh.db,
    s3,
    bucket: cfg.S3_BUCKET,
    transcodeQueue,
    outbox,
    urlPolicy,
    fetchTimeoutMs: cfg.SNS_FETCH_TIMEOUT_MS,
    redisReady,
  });
  await registerSnsRoutes(app, {
    ingest,
    verify,
    allowedTopicArns: cfg.SNS_ALLOWED_TOPIC_ARNS,
    maxBodyBytes: cfg.SNS_MAX_BODY_BYTES,
    onOutcome: (type, outcome) => messages.inc({ type, outcome }),
  });

  const sweeper = setInterval(() => {
    outbox
      .sweep(cfg.OUTBOX_MIN_AGE_MS)
      .catch((err) => log.warn({ err: (err as Error).message }, 'outbox sweep failed'));
  }, cfg.OUTBOX_SWEEP_INTERVAL_MS);
  sweeper.unref();

  return {
    app,
    log,
    notifyQueue,
    transcodeQueue,
    outbox,
    async close() {
      clearInterval(sweeper);
      await app.close();
      await notifyQueue.close().catch(() => {});
      await transcodeQueue.close().catch(() => {});
      redis.disconnect();
      s3.destroy();
      await dbh.close();
    },
  };
}
