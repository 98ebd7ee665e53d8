import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobName, QueueName, jobOptions } from '@mp/contracts';
import { createQueue, producerConnection, type RedisConnection } from '@mp/runtime';
import { eventually } from '@mp/testbed';
import { startRedisCluster, type RedisClusterHandle } from '@mp/testbed/redis-cluster';
import { startNotifier, type RunningNotifier } from '../src/server';
import { connect, createBed, type Bed, type Client } from './helpers';

let cluster: RedisClusterHandle;
let bed: Bed;
let producer: RedisConnection;
let withWorker: RunningNotifier;
let socketOnly: RunningNotifier;
const open: Client[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
  bed = await createBed();
  const nodes = cluster.nodes.join(',');
  withWorker = await startNotifier(bed.config({ REDIS_CLUSTER_NODES: nodes }));
  socketOnly = await startNotifier(bed.config({ REDIS_CLUSTER_NODES: nodes, NOTIFIER_WORKER: 'false' }));
  producer = producerConnection(
    { REDIS_URL: bed.t.redisUrl, REDIS_CLUSTER_NODES: cluster.nodes },
    { enableOfflineQueue: true },
  );
}, 60_000);

afterAll(async () => {
  for (const c of open) c.close();
  await withWorker?.close();
  await socketOnly?.close();
  producer?.disconnect();
  await bed?.close();
  await cluster?.stop();
});

describe('two notifiers on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  it('a socket on the socket-only replica hears of a notify job the other replica consumed', async () => {
    const ann = await bed.user('ann');
    const c = await connect(socketOnly.url, { token: ann.token });
    open.push(c);
    const mediaId = await bed.media(ann.id, 'song.mp3');
    const queue = createQueue(QueueName.notify, producer, bed.t.queuePrefix);
    try {
      await queue.add(JobName.notify, { mediaId, kind: 'media.complete' }, jobOptions(QueueName.notify, randomUUID()));
      await eventually(async () => c.notifications.length === 1);
      expect(c.notifications[0]!.mediaId).toBe(mediaId);
    } finally {
      await queue.close();
    }
  });

  it('carries the rooms over sharded Pub/Sub channels, and the queue under the hash-tagged prefix', async () => {
    const nodes = (producer as Cluster).nodes('master');
    const channels = (
      await Promise.all(nodes.map((n) => n.call('PUBSUB', 'SHARDCHANNELS', `${bed.t.queuePrefix}:socket.io*`)))
    ).flat();
    expect(channels.length).toBeGreaterThan(0);
    const keys = (await Promise.all(nodes.map((n) => n.keys(`{${bed.t.queuePrefix}}:notify:*`)))).flat();
    expect(keys.length).toBeGreaterThan(0);
  });
});
