import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/**
 * Where Redis is: one server at REDIS_URL, or, when REDIS_CLUSTER_NODES lists a Redis Cluster's nodes
 * (host:port), that cluster; REDIS_URL then gives only the user, the password and TLS (rediss:) for every node.
 */
export interface RedisTarget {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: readonly string[];
}

export type RedisConnection = Redis | Cluster;

function nodeAddress(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(':');
  const port = Number(node.slice(at + 1));
  if (at < 1 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`redis: cluster node "${node}" is not host:port`);
  return { host: node.slice(0, at), port };
}

/**
 * The one place a Redis connection is made. `options` are the per-server options (timeouts, retries); on a
 * cluster they apply to each node, and enableOfflineQueue to the cluster client as well. Sharded Pub/Sub
 * (SSUBSCRIBE) is on, for the socket.io sharded adapter.
 */
export function redisConnection(
  target: RedisTarget | string,
  options: RedisOptions = {},
  clusterOptions: ClusterOptions = {},
): RedisConnection {
  const t = typeof target === 'string' ? { REDIS_URL: target } : target;
  const nodes = t.REDIS_CLUSTER_NODES ?? [];
  if (!nodes.length) return new Redis(t.REDIS_URL, options);
  const url = new URL(t.REDIS_URL);
  const auth: RedisOptions = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return new Cluster(nodes.map(nodeAddress), {
    redisOptions: { ...auth, ...options },
    shardedSubscribers: true,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    ...clusterOptions,
  });
}

export function isCluster(connection: RedisConnection): connection is Cluster {
  return connection.isCluster;
}

/**
 * The BullMQ prefix for a connection. On a cluster every key of a queue must hash to one slot, so the prefix
 * becomes a hash tag (`mp` → `{mp}`), as BullMQ asks; on one server it stays as configured.
 */
export function queuePrefixFor(connection: RedisConnection, prefix: string): string {
  return isCluster(connection) && !/\{[^}]+\}/.test(prefix) ? `{${prefix}}` : prefix;
}

/** What `warnOnError` listens to: a Redis client, a queue or a worker. */
export interface ErrorSource {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Logs a source's errors as warnings instead of dropping them. ioredis reconnects by itself and repeats the same
 * error on every retry, so one line per message and interval (`everyMs`) is written, however fast it retries.
 */
export function warnOnError(
  source: ErrorSource,
  log: { warn(obj: object, msg: string): void },
  what: string,
  everyMs = 30_000,
  now: () => number = Date.now,
): void {
  const lastLogged = new Map<string, number>();
  source.on('error', (err) => {
    const at = now();
    const last = lastLogged.get(err.message);
    if (last !== undefined && at - last < everyMs) return;
    lastLogged.set(err.message, at);
    log.warn({ err: err.message }, `${what}: ${err.message}`);
  });
}
