import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import { AppError } from '@mp/contracts';
import type { Logger } from '@mp/logging';
import {
  clientErrorHandler,
  defaultClientLimits,
  limitConnectionsPerAddress,
  nodeServerOptions,
  watchBodyTime,
  type ClientLimits,
} from './client-limits';
import { createMetrics, type Metrics } from './metrics';

export type ReadinessCheck = () => Promise<unknown>;

/** Fastify's own 4xx errors, in this project's codes and sentences rather than the framework's. */
const FRAMEWORK_ERRORS: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'BAD_JSON', message: 'The body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'BAD_JSON', message: 'The body is empty; send a JSON object.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_CONTENT_TYPE',
    message: 'The body is not of a content type this route takes.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', message: 'The Content-Length does not match the body.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', message: 'The body is larger than this route takes.' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'UNSUPPORTED_CONTENT_TYPE', message: 'The Content-Type header is not valid.' },
};

export interface HttpServerOptions {
  service: string;
  logger: Logger;
  /** Named dependency checks for /readyz. */
  readiness?: Record<string, ReadinessCheck>;
  bodyLimit?: number;
  /** Timeouts for slow clients and the per-address connection limit; unset ones take defaultClientLimits. */
  limits?: Partial<ClientLimits>;
  fastify?: Partial<FastifyServerOptions>;
}

/**
 * A fastify server with what every service answers the same way: request ids, errors as
 * `{ error: { code, message } }` (never a stack trace), /healthz, /readyz, /metrics, and limits on how long
 * a client may take to send a request and how many connections one address may hold.
 */
export function createHttpServer(opts: HttpServerOptions): { app: FastifyInstance; metrics: Metrics } {
  const limits: ClientLimits = { ...defaultClientLimits, ...definedOnly(opts.limits ?? {}) };
  const app = Fastify({
    loggerInstance: opts.logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'reqId', disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    http: nodeServerOptions(limits),
    clientErrorHandler: clientErrorHandler(opts.logger),
    ...opts.fastify,
  }) as unknown as FastifyInstance;
  const metrics = createMetrics(opts.service);
  if (limits.maxConnectionsPerIp !== undefined) {
    limitConnectionsPerAddress(app.server, limits.maxConnectionsPerIp, opts.logger, () =>
      metrics.connectionsRefused.inc(),
    );
  }

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  watchBodyTime(app, limits);
  app.addHook('onResponse', async (req, reply) => {
    const labels = { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) req.log.error({ status: reply.statusCode, url: req.url }, 'request failed');
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof AppError) {
      return reply.status(err.statusCode).send({ error: { code: err.code, message: err.message } });
    }
    const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
    if (e.validation) {
      return reply.status(400).send({ error: { code: 'VALIDATION', message: e.message ?? 'invalid request' } });
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const known = e.code ? FRAMEWORK_ERRORS[e.code] : undefined;
      return reply.status(e.statusCode).send({
        error: known ?? {
          code: e.code?.startsWith('FST_') ? 'BAD_REQUEST' : (e.code ?? 'BAD_REQUEST'),
          message: e.message ?? 'bad request',
        },
      });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'Internal error.' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'NOT_FOUND', message: `No route for ${req.method} ${req.url.split('?')[0]}.` } }),
  );

  app.get('/healthz', { logLevel: 'silent' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'silent' }, async (_req, reply) => {
    const checks = await runChecks(opts.readiness ?? {});
    const ok = Object.values(checks).every((c) => c === 'ok');
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
  app.get('/metrics', { logLevel: 'silent' }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return { app, metrics };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function runChecks(checks: Record<string, ReadinessCheck>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), 2000);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, `error: ${(err as Error).message}`] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
