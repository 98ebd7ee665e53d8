import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RedisClusterHandle {
  /** host:port of every primary, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  primaries?: number;
  host?: string;
  /** Runs each redis-server through this prefix (for example `ip netns exec <ns>`). */
  command?: string[];
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** A run of `count` ports whose cluster bus ports (+10000) are free as well. */
async function freePorts(host: string, count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((p) => [portFree(host, p), portFree(host, p + 10000)]));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('testbed: no free ports for a Redis Cluster');
}

/**
 * A real Redis Cluster of `primaries` primaries (no replicas) from Debian's redis-server, in a temp dir of its
 * own, on free ports; stop() kills the servers and removes the dir.
 */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const host = opts.host ?? '127.0.0.1';
  const prefix = opts.command ?? [];
  const ports = await freePorts(host, opts.primaries ?? 3);
  const dir = await mkdtemp(path.join(tmpdir(), 'mp-redis-cluster-'));
  const procs: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const args = [
        ...['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'no'],
        ...[
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '3000',
        ],
      ];
      const [cmd, ...rest] = [...prefix, 'redis-server', ...args];
      procs.push(spawn(cmd!, rest, { stdio: 'ignore' }));
    }
    const cli = (args: string[]) => {
      const [cmd, ...rest] = [...prefix, 'redis-cli', ...args];
      return run(cmd!, rest);
    };
    for (const port of ports) {
      for (let i = 0; ; i++) {
        if (procs.some((p) => p.exitCode !== null)) throw new Error('testbed: a redis-server of the cluster exited');
        if (
          await cli(['-h', host, '-p', String(port), 'ping']).then(
            () => true,
            () => false,
          )
        )
          break;
        if (i > 200) throw new Error(`testbed: redis-server on ${host}:${port} did not start`);
        await sleep(50);
      }
    }
    const nodes = ports.map((p) => `${host}:${p}`);
    await cli(['--cluster', 'create', ...nodes, '--cluster-yes']);
    for (let i = 0; ; i++) {
      const states = await Promise.all(
        ports.map((p) => cli(['-h', host, '-p', String(p), 'cluster', 'info']).then((r) => r.stdout)),
      );
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (i > 200) throw new Error('testbed: the Redis Cluster did not reach cluster_state:ok');
      await sleep(100);
    }
    return { nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
