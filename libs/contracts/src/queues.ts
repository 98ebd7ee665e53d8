// Queue names and their policies, as data (one row per queue). Every producer and worker reads from here.
export const QueueName = {
  transcode: 'transcode',
  notify: 'notify',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export interface QueuePolicy {
  /** Attempts before the job is failed for good. */
  attempts: number;
  backoff: { type: 'exponential' | 'fixed'; delay: number; jitter?: number };
  /** Worker concurrency per process. */
  concurrency: number;
  /** Keep this many finished jobs for inspection. */
  removeOnComplete: { count: number; age: number };
  removeOnFail: { count: number; age: number };
}

export const queuePolicies: Record<QueueName, QueuePolicy> = {
  transcode: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
    concurrency: 8,
    removeOnComplete: { count: 1000, age: 24 * 3600 },
    removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
  },
  notify: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 200, jitter: 0.5 },
    concurrency: 32,
    removeOnComplete: { count: 1000, age: 3600 },
    removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
  },
};

/** BullMQ job options derived from a queue's policy. */
export function jobOptions(queue: QueueName, jobId?: string) {
  const p = queuePolicies[queue];
  return {
    attempts: p.attempts,
    backoff: p.backoff,
    removeOnComplete: p.removeOnComplete,
    removeOnFail: p.removeOnFail,
    ...(jobId ? { jobId } : {}),
  };
}
