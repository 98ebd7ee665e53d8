import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Queue } from 'bullmq';
import { QueueName, type TranscodeJob } from '@mp/contracts';
import { MediaRepository, createDb } from '@mp/db';
import { createLogger, type Logger } from '@mp/logging';
import { createHttpServer, createQueue, producerConnection, prom } from '@mp/runtime';
import { createS3Client, s3SettingsFromConfig } from '@mp/storage';
import { ensurePlaybackCors } from './bucket-cors';
import { DEV_PLAYBACK_SECRET, type GatewayConfig } from './config';
import { MediaService } from './media.service';
import { PublicUrls } from './public-urls';
import { registerAuth } from './routes/auth';
import { registerMediaRoutes } from './routes/media';
import { registerPage } from './routes/page';
import { registerUploadRoutes } from './routes/uploads';
import { registerStreamRoutes } from './routes/stream';
import { registerUserRoutes } from './routes/users';

export interface Gateway {
  app: FastifyInstance;
  media: MediaService;
  queue: Queue<TranscodeJob>;
  log: Logger;
  /** Stops the sweep, closes the server (in-flight uploads finish), then the queue and pools. */
  close(): Promise<void>;
}

export async function buildGateway(cfg: GatewayConfig): Promise<Gateway> {
  const log = createLogger('upload-gateway', cfg.LOG_LEVEL);
  const dbh = createDb(cfg.DATABASE_URL);
  const s3 = createS3Client(s3SettingsFromConfig(cfg));
  const redis = producerConnection(cfg, { log });
  const queue = createQueue<TranscodeJob>(QueueName.transcode, redis, cfg.QUEUE_PREFIX, log);

  const { app, metrics } = createHttpServer({
    service: 'upload-gateway',
    logger: log,
    readiness: {
      postgres: () => dbh.sql`select 1`,
      redis: () => redis.ping(),
      s3: () => s3.send(new HeadBucketCommand({ Bucket: cfg.S3_BUCKET })),
    },
    limits: {
      headersTimeoutMs: cfg.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: cfg.HTTP_REQUEST_TIMEOUT_MS,
      maxConnectionsPerIp: cfg.MAX_CONNECTIONS_PER_IP,
    },
  });
  const uploadBytes = new prom.Counter({
    name: 'upload_bytes_total',
    help: 'Bytes uploaded',
    registers: [metrics.registry],
  });

  const media = new MediaService({
    repo: new MediaRepository(dbh.db),
    s3,
    bucket: cfg.S3_BUCKET,
    queue,
    log,
    maxUploadBytes: cfg.MAX_UPLOAD_BYTES,
    partBytes: cfg.UPLOAD_PART_BYTES,
    queueSize: cfg.UPLOAD_QUEUE_SIZE,
    presignTtl: cfg.PRESIGN_TTL_SECONDS,
    onUploadBytes: (n) => uploadBytes.inc(n),
  });
  const urls = new PublicUrls(
    { gateway: cfg.GATEWAY_PUBLIC_URL, notifier: cfg.NOTIFIER_PUBLIC_URL, s3: cfg.S3_PUBLIC_URL },
    s3SettingsFromConfig(cfg),
    s3,
  );
  if (cfg.PLAYBACK_TOKEN_SECRET === DEV_PLAYBACK_SECRET)
    log.warn('PLAYBACK_TOKEN_SECRET is the development default: set a secret of your own outside development');
  if (cfg.S3_PLAYBACK_CORS) await ensurePlaybackCors(s3, cfg.S3_BUCKET, log);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Media pipeline: upload gateway', version: '1.0.0' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(multipart, {
    // The meter enforces MAX_UPLOAD_BYTES with a clear 413; busboy's own limit is a backstop.
    limits: {
      fileSize: cfg.MAX_UPLOAD_BYTES + 1,
      files: 1,
      fields: 10,
      fieldSize: 4096,
      parts: 12,
    },
    throwFileSizeLimit: false,
  });
  registerAuth(app, dbh.db);
  registerUserRoutes(app, dbh.db, cfg.ADMIN_TOKEN);
  registerMediaRoutes(app, media, {
    uploadIdleTimeoutMs: cfg.UPLOAD_IDLE_TIMEOUT_MS,
    urls,
  });
  registerStreamRoutes(app, media, { secret: cfg.PLAYBACK_TOKEN_SECRET, ttlSeconds: cfg.STREAM_TTL_SECONDS, urls });
  await registerUploadRoutes(app, { cfg, db: dbh.db, s3, media, log });
  registerPage(app, urls);

  const sweeper = setInterval(() => {
    media.sweep(cfg.SWEEP_MIN_AGE_MS).catch((err) => log.warn({ err: (err as Error).message }, 'sweep failed'));
  }, cfg.SWEEP_INTERVAL_MS);
  sweeper.unref();

  return {
    app,
    media,
    queue,
    log,
    async close() {
      clearInterval(sweeper);
      await app.close();
      await queue.close().catch(() => {});
      redis.disconnect();
      urls.close();
      s3.destroy();
      await dbh.close();
    },
  };
}
