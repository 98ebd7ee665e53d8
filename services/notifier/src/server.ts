import { Server } from 'socket.io';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { Worker } from 'bullmq';
import { JobName, QueueName } from '@mp/contracts';
import { createDb } from '@mp/db';
import { createLogger, type Logger } from '@mp/logging';
import {
  createHttpServer,
  createQueue,
  createWorker,
  isCluster,
  producerConnection,
  redisConnection,
  warnOnError,
  workerConnection,
  type RedisConnection,
} from '@mp/runtime';
import type { NotifierConfig } from './config';
import { originAllowed, registerCors } from './cors';
import { notifyHandler } from './jobs/notify.job';
import { createMediaNotices } from './media-notices';
import { createNotifierMetrics } from './metrics';
import { createNotificationsRepository } from './notifications.repository';
import { createNotificationsService } from './notifications.service';
import { notificationsRoutes } from './routes/notifications.routes';
import { attachGateway } from './socket.gateway';
import { createUserEvents, type ServerToClientEvents } from './user-events';

export interface RunningNotifier {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts one notifier: fastify (REST, health, metrics) and socket.io on one HTTP server, rooms shared with every
 * other replica through Redis, and (unless NOTIFIER_WORKER=false) a worker for the `notify` queue.
 */
export async function startNotifier(
  config: NotifierConfig,
  logger: Logger = createLogger('notifier', config.LOG_LEVEL),
): Promise<RunningNotifier> {
  const database = createDb(config.DATABASE_URL);
  const pub = redisConnection(config, { maxRetriesPerRequest: 2 });
  const sub = pub.duplicate();
  warnOnError(pub, logger, 'redis (adapter pub)');
  warnOnError(sub, logger, 'redis (adapter sub)');
  const queueConnection = config.NOTIFIER_WORKER ? producerConnection(config, { log: logger }) : null;
  const queue = queueConnection ? createQueue(QueueName.notify, queueConnection, config.QUEUE_PREFIX, logger) : null;

  const { app, metrics } = createHttpServer({
    service: 'notifier',
    logger,
    readiness: {
      postgres: () => database.sql`select 1`,
      redis: () => pub.ping(),
    },
    limits: {
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      maxConnectionsPerIp: config.MAX_CONNECTIONS_PER_IP,
    },
  });

  const io = new Server<Record<string, never>, ServerToClientEvents>(app.server, {
    transports: ['websocket'],
    maxHttpBufferSize: config.SOCKET_MAX_PAYLOAD_BYTES,
    connectTimeout: 10_000,
    cors: { origin: (origin, done) => done(null, !origin || originAllowed(origin, config.CORS_ORIGINS)) },
    // On a Redis Cluster, sharded Pub/Sub (SSUBSCRIBE/SPUBLISH, Redis 7): a room's channel lives on one shard.
    adapter: isCluster(pub)
      ? createShardedAdapter(pub, sub, {
          channelPrefix: `${config.QUEUE_PREFIX}:socket.io`,
        })
      : createAdapter(pub, sub, { key: `${config.QUEUE_PREFIX}:socket.io` }),
  });

  const notifierMetrics = createNotifierMetrics(metrics, {
    connectedSockets: () => io.of('/').sockets.size,
    queue,
  });
  const events = createUserEvents(io, notifierMetrics);
  const notificationsRepo = createNotificationsRepository(database.db);
  const notifications = createNotificationsService(notificationsRepo, events);

  attachGateway(io, {
    db: database.db,
    notifications,
    metrics: notifierMetrics,
    logger,
    replayLimit: config.REPLAY_LIMIT,
    socketsPerUser: config.SOCKETS_PER_USER,
    rate: {
      burst: config.SOCKET_RATE_BURST,
      perSecond: config.SOCKET_RATE_PER_SECOND,
      maxDropped: config.SOCKET_MAX_DROPPED,
    },
  });
  registerCors(app, config.CORS_ORIGINS);
  await app.register(notificationsRoutes({ db: database.db, notifications }), {
    prefix: '/v1',
  });

  let worker: Worker | null = null;
  let workerRedis: RedisConnection | null = null;
  if (config.NOTIFIER_WORKER) {
    workerRedis = workerConnection(config);
    worker = createWorker({
      queue: QueueName.notify,
      connection: workerRedis,
      prefix: config.QUEUE_PREFIX,
      logger,
      handlers: {
        [JobName.notify]: notifyHandler({
          media: createMediaNotices(database.db),
          notifications: notificationsRepo,
          events,
          metrics: notifierMetrics,
        }),
      },
    });
  }

  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  logger.info({ port, worker: config.NOTIFIER_WORKER }, 'notifier listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await worker?.close();
      await new Promise<void>((resolve) => void io.close(() => resolve()));
      await app.close();
      await queue?.close();
      for (const r of [pub, sub, workerRedis, queueConnection]) r?.disconnect();
      await database.close();
    })());

  return { port, url: `http://${host}:${port}`, close };
}
