import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuePolicy } from '@mp/contracts';

// This service's own queues and their policies, as data. Payloads are ids only: handlers re-read Postgres.
export const TranscoderQueue = { transcode: 'et-transcode', deliver: 'et-deliver' } as const;
export type TranscoderQueue = (typeof TranscoderQueue)[keyof typeof TranscoderQueue];

export const TranscoderJobName = { transcode: 'et.transcode', deliver: 'et.deliver' } as const;

export interface TranscodePayload {
  jobId: string;
}
export interface DeliverPayload {
  deliveryId: string;
}

export const transcoderQueuePolicies: Record<TranscoderQueue, Omit<QueuePolicy, 'concurrency'>> = {
  // Attempts cover infrastructure failures only (about 4 minutes of them); a bad input ends the job in Error
  // without a retry, and the last attempt ends the job in Error 9000 rather than leave it Progressing.
  'et-transcode': {
    attempts: 8,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    removeOnComplete: { count: 1000, age: 24 * 3600 },
    removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
  },
  // About 17 minutes of retries (0.5 s doubling), as SNS keeps retrying an HTTP endpoint for a while.
  'et-deliver': {
    attempts: 12,
    backoff: { type: 'exponential', delay: 500, jitter: 0.3 },
    removeOnComplete: { count: 1000, age: 3600 },
    removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
  },
};

/** One BullMQ entry per Elastic Transcoder job / per delivery: re-adding an id already queued does nothing. */
export const transcodeQueueId = (jobId: string) => `et-${jobId}`;
export const deliverQueueId = (deliveryId: string) => `delivery-${deliveryId}`;

export interface TranscoderQueues {
  transcode: Queue<TranscodePayload>;
  deliver: Queue<DeliverPayload>;
  enqueueJob(jobId: string): Promise<void>;
  enqueueDeliveries(ids: string[]): Promise<void>;
  /** Puts a job back when its queue entry was lost or gave up: adds it, or retries a failed entry. */
  requeueJob(jobId: string): Promise<void>;
  requeueDelivery(id: string): Promise<void>;
  close(): Promise<void>;
}

export function createQueues(connection: Redis, prefix: string): TranscoderQueues {
  const transcode = new Queue<TranscodePayload>(TranscoderQueue.transcode, { connection, prefix });
  const deliver = new Queue<DeliverPayload>(TranscoderQueue.deliver, { connection, prefix });
  transcode.on('error', () => {});
  deliver.on('error', () => {});
  const opts = (queue: TranscoderQueue, jobId: string) => {
    const { attempts, backoff, removeOnComplete, removeOnFail } = transcoderQueuePolicies[queue];
    return { jobId, attempts, backoff, removeOnComplete, removeOnFail };
  };
  const addJob = (jobId: string) =>
    transcode.add(TranscoderJobName.transcode, { jobId }, opts(TranscoderQueue.transcode, transcodeQueueId(jobId)));
  const addDelivery = (deliveryId: string) =>
    deliver.add(TranscoderJobName.deliver, { deliveryId }, opts(TranscoderQueue.deliver, deliverQueueId(deliveryId)));

  async function requeue<T>(queue: Queue<T>, id: string, add: () => Promise<unknown>) {
    const existing = await queue.getJob(id);
    if (!existing) return void (await add());
    const state = await existing.getState();
    if (state === 'failed') await existing.retry('failed');
    else if (state === 'completed') {
      await existing.remove();
      await add();
    }
  }

  return {
    transcode,
    deliver,
    enqueueJob: async (jobId) => void (await addJob(jobId)),
    enqueueDeliveries: async (ids) => void (await Promise.all(ids.map(addDelivery))),
    requeueJob: (jobId) => requeue(transcode, transcodeQueueId(jobId), () => addJob(jobId)),
    requeueDelivery: (id) => requeue(deliver, deliverQueueId(id), () => addDelivery(id)),
    close: async () => {
      await Promise.all([transcode.close(), deliver.close()]);
    },
  };
}
