import { Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { JobName, QueueName, jobOptions, transcodeJobId, type TranscodeJob } from '@mp/contracts';
import { withTimeout } from './http';
import { createLogger, type Logger } from '@mp/logging';
import { queuePrefixFor, redisConnection, warnOnError, type RedisConnection, type RedisTarget } from './redis';

type WarnLog = { warn(obj: object, msg: string): void };

/** Options of a connection, and where its errors are logged (throttled by warnOnError). */
export type ConnectionOptions = RedisOptions & { log?: WarnLog };

function withLog(connection: RedisConnection, log: WarnLog | undefined, what: string): RedisConnection {
  if (log) warnOnError(connection, log, what);
  return connection;
}

/** Producer connections fail fast when Redis is down, so callers can record and retry later. */
export function producerConnection(
  target: RedisTarget | string,
  { log, ...extra }: ConnectionOptions = {},
): RedisConnection {
  const connection = redisConnection(target, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    ...extra,
  });
  return withLog(connection, log, 'redis (producer)');
}

/** Worker connections wait for Redis forever (BullMQ requires maxRetriesPerRequest: null). */
export function workerConnection(target: RedisTarget | string, log?: WarnLog): RedisConnection {
  return withLog(redisConnection(target, { maxRetriesPerRequest: null }), log, 'redis (worker)');
}

let runtimeLog: Logger | undefined;
const fallbackLog = (): Logger => (runtimeLog ??= createLogger('queue'));

/** A queue whose errors (Redis unreachable, say) are logged through `log`, or a logger of its own. */
export function createQueue<T>(name: QueueName, connection: RedisConnection, prefix: string, log?: WarnLog): Queue<T> {
  const queue = new Queue<T>(name, {
    connection,
    prefix: queuePrefixFor(connection, prefix),
  });
  warnOnError(queue, log ?? fallbackLog(), `queue ${name}`);
  return queue;
}

/** What `enqueueTranscode` needs: the queue, and the media row's mark that its job reached the queue. */
export interface TranscodeProducer {
  queue: Pick<Queue<TranscodeJob>, 'add'>;
  markEnqueued(mediaId: string): Promise<unknown>;
  log: { warn(obj: object, msg: string): void };
  /** False while the connection is known to be failing: then nothing is tried and the sweep queues it. */
  redisReady?: () => boolean;
  timeoutMs?: number;
}

const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * Hands a media to the transcode queue. If Redis is unreachable the caller's work still stands: the row keeps
 * enqueued_at null and a sweep queues it later. The job id is per media, so a double add is a no-op.
 */
export async function enqueueTranscode(p: TranscodeProducer, mediaId: string): Promise<boolean> {
  if (p.redisReady && !p.redisReady()) {
    p.log.warn({ mediaId }, 'Redis unavailable; transcode left for the sweep');
    return false;
  }
  try {
    await withTimeout(
      p.queue.add(JobName.transcode, { mediaId }, jobOptions(QueueName.transcode, transcodeJobId(mediaId))),
      p.timeoutMs ?? ENQUEUE_TIMEOUT_MS,
    );
  } catch (err) {
    p.log.warn({ mediaId, err: (err as Error).message }, 'transcode not queued; the sweep will retry');
    return false;
  }
  await p.markEnqueued(mediaId);
  return true;
}
