import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createLogger, type Logger } from '@mp/logging';
import { createHttpServer, producerConnection } from '@mp/runtime';
import { createS3Client, s3SettingsFromConfig } from '@mp/storage';
import { checkSigV4Headers, verifySigV4 } from './auth/sigv4';
import type { TranscoderConfig } from './config';
import { openDb } from './db/client';
import { DeliveriesRepository, SigningIdentityRepository } from './deliveries.repository';
import { EtError } from './et/errors';
import { JobsRepository } from './jobs.repository';
import { loadSigningIdentity } from './notifications/signing';
import { PipelinesRepository } from './pipelines.repository';
import { PresetsRepository } from './presets.repository';
import { createQueues } from './queues';
import type { ApiContext } from './routes/context';
import { jobRoutes } from './routes/jobs.routes';
import { pipelineRoutes } from './routes/pipelines.routes';
import { presetRoutes } from './routes/presets.routes';
import { roleRoutes } from './routes/role.routes';
import { snsRoutes } from './routes/sns.routes';

export const API_PREFIX = '/2012-09-25';

export interface TranscoderApi {
  app: FastifyInstance;
  log: Logger;
  close(): Promise<void>;
}

/**
 * The Elastic Transcoder REST API (2012-09-25): records pipelines, presets and jobs in Postgres and queues
 * jobs for the workers. Also serves what SNS serves to direct-delivery subscribers.
 */
export async function buildServer(config: TranscoderConfig, opts: { logger?: Logger } = {}): Promise<TranscoderApi> {
  const log = opts.logger ?? createLogger('transcoder-api', config.LOG_LEVEL);
  const handle = openDb(config.DATABASE_URL);
  const redis = producerConnection(config, { log });
  await connected(redis, 3000);
  const queues = createQueues(redis, config.QUEUE_PREFIX, log);
  const s3 = createS3Client(s3SettingsFromConfig(config));
  const deliveries = new DeliveriesRepository(handle.db);
  const identity = await loadSigningIdentity(config, new SigningIdentityRepository(handle.db));

  const { app } = createHttpServer({
    service: 'transcoder',
    logger: log,
    readiness: {
      postgres: () => handle.sql`select 1`,
      redis: () => redis.ping(),
    },
    limits: {
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    },
  });
  const ctx: ApiContext = {
    config,
    scope: { region: config.ET_REGION, accountId: config.ET_ACCOUNT_ID },
    pipelines: new PipelinesRepository(handle.db),
    presets: new PresetsRepository(handle.db),
    jobs: new JobsRepository(handle.db),
    queues,
    s3,
  };
  snsRoutes(app, { identity, deliveries });
  await app.register(async (et) => elasticTranscoderApi(et, ctx), {
    prefix: API_PREFIX,
  });

  return {
    app,
    log,
    async close() {
      await app.close();
      await queues.close().catch(() => {});
      redis.disconnect();
      s3.destroy();
      await handle.close();
    },
  };
}

/** Waits a moment for Redis so the first CreateJob can queue; without it the workers' sweep queues the job. */
function connected(redis: ReturnType<typeof producerConnection>, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function elasticTranscoderApi(et: FastifyInstance, ctx: ApiContext) {
  // The signature covers the exact body bytes, so bodies stay raw until the signature is checked.
  et.removeAllContentTypeParsers();
  et.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  et.addHook('onRequest', async (req, reply) => {
    reply.header('x-amzn-RequestId', req.id);
    // An unsigned request, or one from an unknown key, is refused before its body is read.
    const early = checkSigV4Headers(req.headers, ctx.config.ET_CREDENTIALS);
    if (!early.ok) throw new EtError('AccessDeniedException', early.reason);
  });
  et.addHook('preHandler', async (req) => {
    const result = await verifySigV4(
      {
        method: req.method,
        url: req.raw.url ?? req.url,
        headers: req.headers,
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      },
      ctx.config.ET_CREDENTIALS,
    );
    if (!result.ok) throw new EtError('AccessDeniedException', result.reason);
    req.log = req.log.child({ accessKeyId: result.accessKeyId });
  });
  et.setErrorHandler((err, req, reply) => sendError(reply, asEtError(err, req)));
  et.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      new EtError('ValidationException', `No operation matches ${req.method} ${req.url.split('?')[0]}.`),
      404,
    ),
  );

  pipelineRoutes(et, ctx);
  presetRoutes(et, ctx);
  jobRoutes(et, ctx);
  roleRoutes(et, ctx);
}

/** The service's error format: status from the model, type in x-amzn-ErrorType, text in `message`. */
function sendError(reply: FastifyReply, err: EtError, status = err.statusCode) {
  return reply
    .code(status)
    .header('x-amzn-ErrorType', err.type)
    .type('application/json')
    .send({ message: err.message });
}

function asEtError(err: unknown, req: FastifyRequest): EtError {
  if (err instanceof EtError) return err;
  const e = err as { statusCode?: number; message?: string };
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
    return new EtError('ValidationException', e.message ?? 'Bad request.');
  req.log.error({ err }, 'unhandled error');
  return new EtError(
    'InternalServiceException',
    'Elastic Transcoder encountered an unexpected exception while trying to fulfill the request.',
  );
}
