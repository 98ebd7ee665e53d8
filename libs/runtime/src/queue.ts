import { Queue, Worker, type Job, type Processor } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { queuePolicies, type QueueName } from '@mp/contracts';
import type { Logger } from '@mp/logging';

/** Producer connections fail fast when Redis is down, so callers can record and retry later. */
export function producerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, ...extra });
}

/** Worker connections wait for Redis forever (BullMQ requires maxRetriesPerRequest: null). */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

export function createQueue<T>(name: QueueName, connection: Redis, prefix: string): Queue<T> {
  const queue = new Queue<T>(name, { connection, prefix });
  queue.on('error', () => {});
  return queue;
}

export type Handlers<T> = Record<string, (job: Job<T>, log: Logger) => Promise<unknown>>;

/**
 * A worker for one queue with its policy's concurrency. Every job name must have exactly one
 * handler; an unknown name fails the job without retry.
 */
export function createWorker<T>(opts: {
  queue: QueueName;
  connection: Redis;
  prefix: string;
  logger: Logger;
  handlers: Handlers<T>;
  concurrency?: number;
}): Worker<T> {
  const { logger, handlers } = opts;
  const processor: Processor<T> = async (job) => {
    const handler = handlers[job.name];
    if (!handler) throw new Error(`no handler for job ${job.name} on queue ${opts.queue}`);
    const log = logger.child({ queue: opts.queue, jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 });
    return handler(job, log);
  };
  const worker = new Worker<T>(opts.queue, processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency ?? queuePolicies[opts.queue].concurrency,
  });
  worker.on('failed', (job, err) =>
    logger.warn({ queue: opts.queue, jobId: job?.id, err: err.message, attempts: job?.attemptsMade }, 'job failed'),
  );
  worker.on('error', (err) => logger.error({ queue: opts.queue, err: err.message }, 'worker error'));
  return worker;
}
