import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { runMigrations } from '@mp/db';
import { withDatabase } from './addresses';
import { startEmbeddedS3 } from './s3rver-server';
import type { TestbedInfo } from './types';
import type * as Testcontainers_ from 'testcontainers';

declare module 'vitest' {
  interface ProvidedContext {
    testbed: TestbedInfo;
  }
}

const LOCALSTACK_IMAGE = 'localstack/localstack:4.14.0';
const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

type Teardown = () => Promise<void>;

/**
 * Provides real Postgres, Redis and S3 to every test file: from DATABASE_URL / REDIS_URL / S3_ENDPOINT when
 * set; else from testcontainers when a container runtime answers; else the local services on their default
 * ports (Postgres, Redis) and an embedded s3rver (S3). Migrations run once, into a template database that
 * each test file copies.
 */
export default async function setup(project: TestProject): Promise<Teardown> {
  const teardowns: Teardown[] = [];
  const mode = process.env.TEST_INFRA ?? 'auto';
  const containers = mode === 'local' ? null : await containerRuntime(mode === 'containers');

  const pg = await resolvePostgres(containers, teardowns);
  const redisUrl = await resolveRedis(containers, teardowns);
  const s3 = await resolveS3(containers, teardowns);

  const template = `mp_tpl_${randomBytes(4).toString('hex')}`;
  const admin = postgres(pg, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${template}`);
  await runMigrations(withDatabase(pg, template));
  teardowns.push(async () => {
    await dropDatabasesLike(admin, `${template}%`).catch(() => {});
    await admin.end({ timeout: 5 });
  });

  const info: TestbedInfo = {
    adminDatabaseUrl: pg,
    template,
    redisUrl,
    s3,
    infra: containers ? 'containers' : 'local',
  };
  project.provide('testbed', info);

  return async () => {
    for (const t of teardowns.reverse()) await t().catch(() => {});
  };
}

type Testcontainers = typeof Testcontainers_;

async function containerRuntime(required: boolean): Promise<Testcontainers | null> {
  try {
    const tc = await import('testcontainers');
    await tc.getContainerRuntimeClient();
    return tc;
  } catch (err) {
    if (required)
      throw new Error(`testbed: TEST_INFRA=containers but no container runtime answers (${(err as Error).message})`);
    return null;
  }
}

async function resolvePostgres(tc: unknown, teardowns: Teardown[]): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (tc) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const c = await new PostgreSqlContainer('postgres:16-alpine').start();
    teardowns.push(async () => void (await c.stop()));
    return c.getConnectionUri();
  }
  if (await reachable(5432)) return LOCAL_PG;
  throw new Error(
    'testbed: no Postgres: set DATABASE_URL (postgres://user@host:5432/db), start a local Postgres on 127.0.0.1:5432, or provide a container runtime',
  );
}

async function resolveRedis(tc: unknown, teardowns: Teardown[]): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  if (tc) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const c = await new RedisContainer('redis:7-alpine').start();
    teardowns.push(async () => void (await c.stop()));
    return c.getConnectionUrl();
  }
  if (await reachable(6379)) {
    const r = new Redis(LOCAL_REDIS, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await r
      .connect()
      .then(() => r.ping())
      .finally(() => r.disconnect());
    return LOCAL_REDIS;
  }
  throw new Error(
    'testbed: no Redis: set REDIS_URL (redis://host:6379), start a local redis-server on 127.0.0.1:6379, or provide a container runtime',
  );
}

async function resolveS3(tc: unknown, teardowns: Teardown[]): Promise<TestbedInfo['s3']> {
  if (process.env.S3_ENDPOINT) {
    return {
      endpoint: process.env.S3_ENDPOINT,
      region: process.env.S3_REGION ?? 'us-east-1',
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      kind: 'external',
    };
  }
  if (tc) {
    const { LocalstackContainer } = await import('@testcontainers/localstack');
    const c = await new LocalstackContainer(LOCALSTACK_IMAGE).withEnvironment({ SERVICES: 's3,sns' }).start();
    teardowns.push(async () => void (await c.stop()));
    return {
      endpoint: c.getConnectionUri(),
      region: 'us-east-1',
      accessKeyId: 'test',
      secretAccessKey: 'test',
      kind: 'localstack',
    };
  }
  const s3 = await startEmbeddedS3();
  teardowns.push(() => s3.close());
  return {
    endpoint: s3.endpoint,
    region: 'us-east-1',
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    kind: 's3rver',
  };
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port, timeout: 1000 });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => (sock.destroy(), resolve(false)));
  });
}

async function dropDatabasesLike(admin: postgres.Sql, pattern: string): Promise<void> {
  const rows = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${pattern}`;
  for (const { datname } of rows) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
}
