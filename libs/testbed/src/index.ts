import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import postgres from 'postgres';
import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteObjectsCommand, ListObjectsV2Command, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client, ensureBucket } from '@mp/storage';
import { withDatabase } from './addresses';
// inject('testbed') is typed by the ProvidedContext the global setup declares.
import type {} from './global-setup';
import { deleteKeys } from './redis';
import type { TestbedInfo } from './types';

export type { TestbedInfo };
export { freePort, freePortRange, withDatabase } from './addresses';
export { deleteKeys } from './redis';
export {
  startSnsSubscriber,
  type ReceivedDelivery,
  type SnsSubscriber,
  type SubscriberEnvelope,
} from './sns-subscriber';

export interface TestEnv {
  databaseUrl: string;
  redisUrl: string;
  /** BullMQ prefix of this test file. */
  queuePrefix: string;
  bucket: string;
  s3: TestbedInfo['s3'];
  s3Client: S3Client;
  /** Environment for a service under test: DATABASE_URL, REDIS_URL, S3_* and credentials. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * This test file's own data: a fresh database copied from the migrated template, its own bucket and its
 * own BullMQ prefix, so that files run in parallel without seeing each other.
 */
export async function createTestEnv(): Promise<TestEnv> {
  const info = inject('testbed');
  const id = randomBytes(5).toString('hex');
  const dbName = `${info.template}_${id}`;
  const admin = postgres(info.adminDatabaseUrl, { max: 1, onnotice: () => {} });
  await admin`select pg_advisory_lock(hashtext('mp-testbed-createdb'))`;
  try {
    await admin.unsafe(`create database "${dbName}" template "${info.template}"`);
  } finally {
    await admin`select pg_advisory_unlock(hashtext('mp-testbed-createdb'))`;
  }
  const databaseUrl = withDatabase(info.adminDatabaseUrl, dbName);
  const bucket = `mp-test-${id}`;
  const s3Client = createS3Client({ ...info.s3, forcePathStyle: true });
  await ensureBucket(s3Client, bucket);
  const queuePrefix = `mpt-${id}`;
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: info.redisUrl,
    QUEUE_PREFIX: queuePrefix,
    S3_ENDPOINT: info.s3.endpoint,
    S3_REGION: info.s3.region,
    S3_BUCKET: bucket,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: info.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: info.s3.secretAccessKey,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  };
  return {
    databaseUrl,
    redisUrl: info.redisUrl,
    queuePrefix,
    bucket,
    s3: info.s3,
    s3Client,
    env,
    async cleanup() {
      await emptyBucket(s3Client, bucket).catch(() => {});
      await s3Client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
      s3Client.destroy();
      await deleteKeys(info.redisUrl, `${queuePrefix}:*`).catch(() => {});
      await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => {});
      await admin.end({ timeout: 5 });
    },
  };
}

export async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
}

/** Polls until fn returns a truthy value, or fails with the last value seen. */
export async function eventually<T>(
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  throw new Error(
    `eventually: timed out; last value ${JSON.stringify(last)}${lastErr ? `; last error ${String(lastErr)}` : ''}`,
  );
}
