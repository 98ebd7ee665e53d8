// Redis memory per queued job: N jobs of each queue, added with the project's own enqueue code (enqueueTranscode,
// and createQueue with each queue's jobOptions and job id as the transcoder and the notify outbox add them), into a
// scratch prefix that is deleted at the end. Prints used_memory per job, one job hash's MEMORY USAGE and its
// wait-list entry. Figures: docs/benchmarks.md, docs/scaling.md.
import { randomUUID } from 'node:crypto';
import { JobName, QueueName, etDeliverJobId, etTranscodeJobId, jobOptions, notifyJobId } from '@mp/contracts';
import { createQueue, enqueueTranscode, producerConnection } from '@mp/runtime';

const N = Number(process.env.BENCH_JOBS ?? 5000);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench-mem-${randomUUID().slice(0, 8)}`;
const redis = producerConnection(url, { enableOfflineQueue: true, maxRetriesPerRequest: 20 });
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);

const transcode = createQueue<{ mediaId: string }>(QueueName.transcode, redis, prefix);
const etTranscode = createQueue(QueueName.etTranscode, redis, prefix);
const etDeliver = createQueue(QueueName.etDeliver, redis, prefix);
const notify = createQueue(QueueName.notify, redis, prefix);
const quiet = { warn: () => {} };

const cases: Array<[QueueName, () => Promise<unknown>]> = [
  [
    QueueName.transcode,
    () => enqueueTranscode({ queue: transcode, markEnqueued: async () => {}, log: quiet }, randomUUID()),
  ],
  [
    QueueName.etTranscode,
    () => {
      const jobId = `${Date.now()}000-${randomUUID().slice(0, 6)}`;
      return etTranscode.add(
        JobName.etTranscode,
        { jobId },
        jobOptions(QueueName.etTranscode, etTranscodeJobId(jobId)),
      );
    },
  ],
  [
    QueueName.etDeliver,
    () => {
      const deliveryId = randomUUID();
      return etDeliver.add(
        JobName.etDeliver,
        { deliveryId },
        jobOptions(QueueName.etDeliver, etDeliverJobId(deliveryId)),
      );
    },
  ],
  [
    QueueName.notify,
    () => {
      const mediaId = randomUUID();
      return notify.add(
        JobName.notify,
        { mediaId, kind: 'media.complete' },
        jobOptions(QueueName.notify, notifyJobId(mediaId, 'media.complete')),
      );
    },
  ],
];

console.log(
  `Redis ${/redis_version:(\S+)/.exec(await redis.info('server'))![1]}, ${N} jobs per queue, prefix ${prefix}`,
);
try {
  for (const [queue, add] of cases) {
    const before = await usedMemory();
    for (let i = 0; i < N; i += 100) await Promise.all(Array.from({ length: Math.min(100, N - i) }, add));
    const after = await usedMemory();
    const [, keys] = await redis.scan(0, 'MATCH', `${prefix}:${queue}:*-*`, 'COUNT', 1000);
    const jobKey = keys.find((k) => !k.endsWith(':logs'))!;
    const hash = Number(await redis.memory('USAGE', jobKey));
    const wait = Number(await redis.memory('USAGE', `${prefix}:${queue}:wait`));
    console.log(
      `- ${queue}: ${((after - before) / N).toFixed(0)} B per queued job (used_memory), job hash ${hash} B ` +
        `(MEMORY USAGE), wait list ${(wait / N).toFixed(0)} B per job`,
    );
  }
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await Promise.all([transcode.close(), etTranscode.close(), etDeliver.close(), notify.close()]);
  redis.disconnect();
}
