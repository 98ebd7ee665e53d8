import { JobName } from './jobs';

// Queue names and their policies, as data (one row per queue). Every producer and worker reads from here.
export const QueueName = {
  transcode: 'transcode',
  notify: 'notify',
  /** The transcoder's own: an Elastic Transcoder job for its ffmpeg workers. */
  etTranscode: 'et-transcode',
  /** The transcoder's own: one notification to deliver (SNS Publish or a signed HTTP POST). */
  etDeliver: 'et-deliver',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** The job names each queue carries: its worker must have a handler for each of them, and no other. */
export const QueueJobs = {
  transcode: [JobName.transcode],
  notify: [JobName.notify],
  'et-transcode': [JobName.etTranscode],
  'et-deliver': [JobName.etDeliver],
} as const satisfies Record<QueueName, readonly JobName[]>;
export type JobNameOf<Q extends QueueName> = (typeof QueueJobs)[Q][number];

export interface QueuePolicy {
  /** Attempts before the job is failed for good. */
  attempts: number;
  backoff: { type: 'exponential' | 'fixed'; delay: number; jitter?: number };
  /** Worker concurrency per process (a service's config may override it, see `chain.ts`). */
  concurrency: number;
  /**
   * The time limit of a running job without news from its worker: the worker renews its lock within this many
   * ms, or the job counts as stalled and goes back to the queue (BullMQ's lockDuration; 30 s is its default).
   */
  lockDuration: number;
  /** How often a worker looks for stalled jobs, and how many stalls a job survives (BullMQ: 30 s and 1). */
  stalledInterval: number;
  maxStalledCount: number;
  /** BullMQ priority (1 runs first); absent: first in, first out. */
  priority?: number;
  /** Keep this many finished jobs for inspection. */
  removeOnComplete: { count: number; age: number };
  removeOnFail: { count: number; age: number };
}

const BULLMQ_STALL_DEFAULTS = { lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 1 };
const exponential = (delay: number, jitter: number) => ({ type: 'exponential' as const, delay, jitter });
/** Finished jobs kept for inspection: the last 1000 done for `hours`, the last 5000 failed for a week. */
const keep = (hours: number) => ({
  removeOnComplete: { count: 1000, age: hours * 3600 },
  removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
});

export const queuePolicies: Record<QueueName, QueuePolicy> = {
  transcode: { attempts: 8, backoff: exponential(500, 0.5), concurrency: 8, ...BULLMQ_STALL_DEFAULTS, ...keep(24) },
  notify: { attempts: 10, backoff: exponential(200, 0.5), concurrency: 32, ...BULLMQ_STALL_DEFAULTS, ...keep(1) },
  // Attempts cover infrastructure failures only (about 4 minutes of them); a bad input ends the job in Error
  // without a retry, and the last attempt ends the job in Error 9000 rather than leave it Progressing.
  // A killed worker's entry returns to the queue once its lock lapses (the lease, ET_LEASE_MS); the Postgres
  // lease decides who runs it, so a stall is no reason to give up.
  'et-transcode': {
    attempts: 8,
    backoff: exponential(1000, 0.5),
    concurrency: 2,
    ...BULLMQ_STALL_DEFAULTS,
    maxStalledCount: 100,
    ...keep(24),
  },
  // About 17 minutes of retries (0.5 s doubling), as SNS keeps retrying an HTTP endpoint for a while.
  'et-deliver': { attempts: 12, backoff: exponential(500, 0.3), concurrency: 16, ...BULLMQ_STALL_DEFAULTS, ...keep(1) },
};

/** BullMQ job options derived from a queue's policy. */
export function jobOptions(queue: QueueName, jobId?: string) {
  const p = queuePolicies[queue];
  return {
    attempts: p.attempts,
    backoff: p.backoff,
    removeOnComplete: p.removeOnComplete,
    removeOnFail: p.removeOnFail,
    ...(p.priority !== undefined ? { priority: p.priority } : {}),
    ...(jobId ? { jobId } : {}),
  };
}

/** BullMQ worker options derived from a queue's policy; `overrides` are a service's configured values. */
export function workerOptions(
  queue: QueueName,
  overrides: Partial<Pick<QueuePolicy, 'concurrency' | 'lockDuration' | 'stalledInterval'>> = {},
) {
  const p = { ...queuePolicies[queue], ...definedOnly(overrides) };
  return {
    concurrency: p.concurrency,
    lockDuration: p.lockDuration,
    stalledInterval: p.stalledInterval,
    maxStalledCount: p.maxStalledCount,
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
