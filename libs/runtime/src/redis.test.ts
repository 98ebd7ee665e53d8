import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobName, QueueName, jobOptions } from '@mp/contracts';
import { createLogger } from '@mp/logging';
import { startRedisCluster, type RedisClusterHandle } from '@mp/testbed/redis-cluster';
import { createWorker } from './job-registry';
import { createQueue, producerConnection, workerConnection } from './queue';
import { queuePrefixFor, redisConnection, type RedisTarget } from './redis';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger('redis-test', 'silent');

describe('with REDIS_CLUSTER_NODES unset', () => {
  it('connects to the one server at REDIS_URL and keeps the configured queue prefix', async () => {
    const r = redisConnection({ REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: [] });
    try {
      expect(r).toBeInstanceOf(Redis);
      expect(await r.ping()).toBe('PONG');
      expect(queuePrefixFor(r, 'mp')).toBe('mp');
    } finally {
      r.disconnect();
    }
  });
});

describe('on a Redis Cluster of 3 primaries', () => {
  let cluster: RedisClusterHandle;
  let target: RedisTarget;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    target = {
      REDIS_URL: 'redis://ignored:6379',
      REDIS_CLUSTER_NODES: cluster.nodes,
    };
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('makes an ioredis Cluster client that sees every primary', async () => {
    const r = producerConnection(target, { enableOfflineQueue: true });
    try {
      expect(r).toBeInstanceOf(Cluster);
      await r.ping();
      expect((r as Cluster).nodes('master')).toHaveLength(3);
    } finally {
      r.disconnect();
    }
  });

  it('runs a queue whose keys share one slot, through the hash-tagged prefix', async () => {
    const prefix = `mpt-cluster-${randomBytes(4).toString('hex')}`;
    const producer = producerConnection(target, { enableOfflineQueue: true });
    const queue = createQueue(QueueName.notify, producer, prefix);
    const done = new Promise<string>((resolve) => {
      const worker = createWorker({
        queue: QueueName.notify,
        connection: workerConnection(target),
        prefix,
        logger,
        handlers: { [JobName.notify]: async (job) => job.data.mediaId },
      });
      worker.on('completed', (job) => resolve(String(job.returnvalue)));
      afterAll(() => worker.close());
    });
    try {
      const mediaId = randomUUID();
      await queue.add(JobName.notify, { mediaId, event: 'media.ready' } as never, jobOptions(QueueName.notify));
      expect(await done).toBe(mediaId);
      const keys: string[] = [];
      for (const node of (producer as Cluster).nodes('master')) keys.push(...(await node.keys(`{${prefix}}:*`)));
      expect(keys.length).toBeGreaterThan(1);
      const slots = new Set(await Promise.all(keys.map((k) => producer.call('CLUSTER', 'KEYSLOT', k))));
      expect(slots.size).toBe(1);
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      producer.disconnect();
    }
  });

  it('could not run a queue without the hash tag (the keys of one command would span slots)', async () => {
    const producer = producerConnection(target, { enableOfflineQueue: true });
    const plain = new Queue(QueueName.notify, {
      connection: producer,
      prefix: `mpt-plain-${randomBytes(4).toString('hex')}`,
    });
    plain.on('error', () => {});
    try {
      await expect(plain.add(JobName.notify, { mediaId: randomUUID() })).rejects.toThrow(/CROSSSLOT|slot/i);
    } finally {
      await plain.close();
      producer.disconnect();
    }
  });
});
