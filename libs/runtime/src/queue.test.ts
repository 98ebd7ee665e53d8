import { randomBytes, randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobName, QueueName, queuePolicies, transcodeJobId, type TranscodeJob } from '@mp/contracts';
import { createQueue, enqueueTranscode, producerConnection } from './queue';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `mpt-enqueue-${randomBytes(4).toString('hex')}`;
const producer = producerConnection(redisUrl);
let queue: Queue<TranscodeJob>;

beforeAll(() => {
  queue = createQueue<TranscodeJob>(QueueName.transcode, producer, prefix);
});

afterAll(async () => {
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  producer.disconnect();
});

function producerFor(q: Pick<Queue<TranscodeJob>, 'add'>, redisReady?: () => boolean) {
  const marked: string[] = [];
  const warnings: string[] = [];
  return {
    marked,
    warnings,
    p: {
      queue: q,
      redisReady,
      markEnqueued: async (id: string) => void marked.push(id),
      log: { warn: (_: object, msg: string) => void warnings.push(msg) },
    },
  };
}

describe('enqueueTranscode', () => {
  it('queues one transcode per media with its policy, however often it is called, and marks the media each time', async () => {
    const mediaId = randomUUID();
    const { p, marked } = producerFor(queue);
    expect(await enqueueTranscode(p, mediaId)).toBe(true);
    expect(await enqueueTranscode(p, mediaId)).toBe(true);

    const job = await queue.getJob(transcodeJobId(mediaId));
    expect(job?.name).toBe(JobName.transcode);
    expect(job?.data).toEqual({ mediaId });
    expect(job?.opts.attempts).toBe(queuePolicies.transcode.attempts);
    expect((await queue.getJobs(['waiting'])).filter((j) => j.data.mediaId === mediaId)).toHaveLength(1);
    expect(marked).toEqual([mediaId, mediaId]);
  });

  it('tries nothing while Redis is known to be down, and leaves the media unmarked for the sweep', async () => {
    const mediaId = randomUUID();
    const { p, marked, warnings } = producerFor(queue, () => false);
    expect(await enqueueTranscode(p, mediaId)).toBe(false);
    expect(await queue.getJob(transcodeJobId(mediaId))).toBeUndefined();
    expect(marked).toEqual([]);
    expect(warnings).toEqual(['Redis unavailable; transcode left for the sweep']);
  });

  it('gives up after its time limit when the add hangs, and leaves the media unmarked', async () => {
    const hanging = { add: () => new Promise<never>(() => {}) } as unknown as Pick<Queue<TranscodeJob>, 'add'>;
    const { p, marked, warnings } = producerFor(hanging);
    const started = Date.now();
    expect(await enqueueTranscode({ ...p, timeoutMs: 50 }, randomUUID())).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(marked).toEqual([]);
    expect(warnings).toEqual(['transcode not queued; the sweep will retry']);
  });
});
