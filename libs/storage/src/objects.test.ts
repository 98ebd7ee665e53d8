import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from './client';
import { deleteKeys, headObject, isNoSuchBucket, isNotFound, listKeys, objectExists } from './objects';

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv();
});
afterAll(() => t?.cleanup());

const put = (Key: string, Body = 'x') => t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body }));

describe('objects', () => {
  it('objectExists and headObject tell a present object from a missing one', async () => {
    await put('here/a.txt', 'abc');
    expect(await objectExists(t.s3Client, t.bucket, 'here/a.txt')).toBe(true);
    expect(await objectExists(t.s3Client, t.bucket, 'here/missing.txt')).toBe(false);
    expect((await headObject(t.s3Client, t.bucket, 'here/a.txt'))?.ContentLength).toBe(3);
    expect(await headObject(t.s3Client, t.bucket, 'here/missing.txt')).toBeUndefined();
  });

  it('isNotFound recognises the typed errors of HEAD and GET, and nothing else', async () => {
    const get = await t.s3Client.send(new GetObjectCommand({ Bucket: t.bucket, Key: 'nope' })).catch((e: unknown) => e);
    expect(isNotFound(get)).toBe(true);
    expect(isNotFound(Object.assign(new Error('x'), { name: 'NotFound' }))).toBe(false);
  });

  it('isNoSuchBucket recognises a missing bucket on GET and PUT, and not a missing key', async () => {
    const get = await t.s3Client
      .send(new GetObjectCommand({ Bucket: `${t.bucket}-absent`, Key: 'k' }))
      .catch((e: unknown) => e);
    const putErr = await t.s3Client
      .send(new PutObjectCommand({ Bucket: `${t.bucket}-absent`, Key: 'k', Body: 'x' }))
      .catch((e: unknown) => e);
    const missingKey = await t.s3Client
      .send(new GetObjectCommand({ Bucket: t.bucket, Key: 'nope' }))
      .catch((e: unknown) => e);
    expect([isNoSuchBucket(get), isNoSuchBucket(putErr), isNoSuchBucket(missingKey)]).toEqual([true, true, false]);
    expect(isNoSuchBucket(Object.assign(new Error('x'), { name: 'NoSuchBucket' }))).toBe(false);
  });

  it('objectExists throws what is not a missing object: a refused request stays an error', async () => {
    const refused = createS3Client({ ...t.s3, forcePathStyle: true, secretAccessKey: 'not-the-secret' });
    try {
      await expect(objectExists(refused, t.bucket, 'here/a.txt')).rejects.toMatchObject({
        $metadata: { httpStatusCode: 403 },
      });
    } finally {
      refused.destroy();
    }
  });

  it('listKeys lists every key under the prefix and only those', async () => {
    const keys = ['list/a', 'list/b/c', 'list/d'];
    for (const k of keys) await put(k);
    await put('listother/x');
    expect(await listKeys(t.s3Client, t.bucket, 'list/')).toEqual(keys);
    expect(await listKeys(t.s3Client, t.bucket, 'list/none/')).toEqual([]);
  });

  // The embedded S3 answers a truncated listing with InternalError, so paging is not exercised here.
  it('deleteKeys removes more keys than one request takes, and counts a key already gone', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 10) await Promise.all(keys.slice(i, i + 10).map((k) => put(k)));
    await put('manyother/x');
    expect(await deleteKeys(t.s3Client, t.bucket, [...keys, 'many/already-gone'])).toBe(1002);
    expect(await objectExists(t.s3Client, t.bucket, keys[0]!)).toBe(false);
    expect(await objectExists(t.s3Client, t.bucket, keys[1000]!)).toBe(false);
    expect(await listKeys(t.s3Client, t.bucket, 'manyother/')).toEqual(['manyother/x']);
    expect(await deleteKeys(t.s3Client, t.bucket, [])).toBe(0);
  }, 120_000);
});
