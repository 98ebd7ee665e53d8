import type { Queue } from 'bullmq';
import type { RedisConnection } from '@mp/runtime';
import {
  JobName,
  QueueName,
  etDeliverJobId,
  etTranscodeJobId,
  jobOptions,
  type EtDeliverJob,
  type EtTranscodeJob,
} from '@mp/contracts';
import { createQueue } from '@mp/runtime';

// This service's own queues; their names, payloads and policies are in @mp/contracts (queues.ts, chain.ts).
export type TranscodePayload = EtTranscodeJob;
export type DeliverPayload = EtDeliverJob;

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

export function createQueues(
  connection: RedisConnection,
  prefix: string,
  log?: { warn(obj: object, msg: string): void },
): TranscoderQueues {
  const transcode = createQueue<TranscodePayload>(QueueName.etTranscode, connection, prefix, log);
  const deliver = createQueue<DeliverPayload>(QueueName.etDeliver, connection, prefix, log);
  const addJob = (jobId: string) =>
    transcode.add(JobName.etTranscode, { jobId }, jobOptions(QueueName.etTranscode, etTranscodeJobId(jobId)));
  const addDelivery = (deliveryId: string) =>
    deliver.add(JobName.etDeliver, { deliveryId }, jobOptions(QueueName.etDeliver, etDeliverJobId(deliveryId)));

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
    requeueJob: (jobId) => requeue(transcode, etTranscodeJobId(jobId), () => addJob(jobId)),
    requeueDelivery: (id) => requeue(deliver, etDeliverJobId(id), () => addDelivery(id)),
    close: async () => {
      await Promise.all([transcode.close(), deliver.close()]);
    },
  };
}
