import { UnrecoverableError, Worker, type Job, type Processor } from 'bullmq';
import { QueueJobs, workerOptions, type JobNameOf, type JobOf, type QueueName, type QueuePolicy } from '@mp/contracts';
import type { Logger } from '@mp/logging';
import { queuePrefixFor, type RedisConnection } from './redis';

/** A handler for one job name; `token` is the worker's lock token (for `moveToDelayed`). */
export type JobHandler<N extends JobNameOf<QueueName>> = (
  job: Job<JobOf<N>>,
  log: Logger,
  token?: string,
) => Promise<unknown>;

/** One handler for each job name of queue Q, and only those: a missing one does not compile. */
export type JobHandlers<Q extends QueueName> = {
  [N in JobNameOf<Q>]: JobHandler<N>;
};

/** The payload of any job on queue Q. */
export type QueuePayload<Q extends QueueName> = JobOf<JobNameOf<Q>>;

/** Refuses handlers that do not match the queue's job names one for one (as Immich refuses to boot). */
export function checkHandlers(queue: QueueName, handlers: Record<string, unknown>): void {
  const expected: readonly string[] = QueueJobs[queue];
  const given = Object.keys(handlers);
  const missing = expected.filter((name) => typeof handlers[name] !== 'function');
  const unknown = given.filter((name) => !expected.includes(name));
  if (missing.length || unknown.length) {
    const parts = [
      missing.length ? `no handler for ${missing.join(', ')}` : '',
      unknown.length ? `handlers for unknown jobs ${unknown.join(', ')}` : '',
    ].filter(Boolean);
    throw new Error(`worker for queue ${queue}: ${parts.join('; ')}`);
  }
}

export interface CreateWorkerOptions<Q extends QueueName> {
  queue: Q;
  connection: RedisConnection;
  prefix: string;
  logger: Logger;
  handlers: JobHandlers<Q>;
  /** A service's configured values; the rest of the worker's options come from the queue's policy. */
  overrides?: Partial<Pick<QueuePolicy, 'concurrency' | 'lockDuration' | 'stalledInterval'>>;
  /** Replaces the default 'job failed' log line, for a queue that says more about its failures. */
  onFailed?: (job: Job<QueuePayload<Q>> | undefined, err: Error) => void;
}

/**
 * The one way to start a worker: its handlers are checked before it connects, its options come from the
 * queue's policy, and a job of a name it has no handler for fails at once, without a retry.
 */
export function createWorker<Q extends QueueName>(opts: CreateWorkerOptions<Q>): Worker<QueuePayload<Q>> {
  const { queue, logger } = opts;
  checkHandlers(queue, opts.handlers);
  const handlers = opts.handlers as Record<string, JobHandler<JobNameOf<Q>>>;
  const processor: Processor<QueuePayload<Q>> = async (job, token) => {
    const handler = Object.hasOwn(handlers, job.name) ? handlers[job.name] : undefined;
    if (!handler) throw new UnrecoverableError(`no handler for job ${job.name} on queue ${queue}`);
    const log = logger.child({
      queue,
      jobId: job.id,
      job: job.name,
      attempt: job.attemptsMade + 1,
    });
    return handler(job as Job<JobOf<JobNameOf<Q>>>, log, token);
  };
  const worker = new Worker<QueuePayload<Q>>(queue, processor, {
    connection: opts.connection,
    prefix: queuePrefixFor(opts.connection, opts.prefix),
    ...workerOptions(queue, opts.overrides),
  });
  worker.on(
    'failed',
    opts.onFailed ??
      ((job, err) =>
        logger.warn(
          {
            queue,
            jobId: job?.id,
            err: err.message,
            attempts: job?.attemptsMade,
          },
          'job failed',
        )),
  );
  worker.on('error', (err) => logger.error({ queue, err: err.message }, 'worker error'));
  return worker;
}
