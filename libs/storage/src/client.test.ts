import { DeleteBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBucket } from './client';

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv();
});
afterAll(() => t?.cleanup());

describe('ensureBucket', () => {
  it('makes the bucket once, however many processes ask for it at the same time', async () => {
    const bucket = `${t.bucket}-made`;
    try {
      await Promise.all([
        ensureBucket(t.s3Client, bucket),
        ensureBucket(t.s3Client, bucket),
        ensureBucket(t.s3Client, bucket),
      ]);
      await ensureBucket(t.s3Client, bucket);
      await expect(t.s3Client.send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
    } finally {
      await t.s3Client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    }
  });
});
