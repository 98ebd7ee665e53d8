import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MediaRepository, MediaTombstonesRepository, createDb, type DbHandle } from '@mp/db';
import { mediaKey } from '@mp/storage';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { startGateway, type Running } from './helpers';

// A delete removes the rows and leaves a tombstone in one transaction; the objects come after. When S3 fails
// at that point (as when the process dies there), the delete has still happened and the tombstone keeps
// the objects on the purge's list.
let t: TestEnv;
let g: Running;
let dbh: DbHandle;

beforeAll(async () => {
  t = await createTestEnv();
  // The gateway's S3 does not answer; the test's own client (t.s3Client) does.
  g = await startGateway({ S3_ENDPOINT: 'http://127.0.0.1:9' }, t);
  dbh = createDb(t.databaseUrl, { max: 2 });
});
afterAll(async () => {
  await g.close();
  await dbh.close();
  await t.cleanup();
});

it('a delete whose objects cannot be removed yet answers 204, removes the rows and leaves a due tombstone', async () => {
  const user = await g.user('alice');
  const mediaId = randomUUID();
  const key = mediaKey(user.id, mediaId, 'song.mp3');
  await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: Buffer.from('ID3') }));
  const repo = new MediaRepository(dbh.db);
  await repo.insert({
    id: mediaId,
    userId: user.id,
    name: 'song.mp3',
    kind: 'audio',
    contentType: 'audio/mpeg',
    size: 3,
    s3Key: key,
  });

  const auth = { authorization: `Bearer ${user.token}` };
  expect((await fetch(`${g.url}/v1/media/${mediaId}`, { method: 'DELETE', headers: auth })).status).toBe(204);
  expect(await repo.get(mediaId)).toBeNull();
  expect(await new MediaTombstonesRepository(dbh.db).get(mediaId)).toMatchObject({
    mediaId,
    userId: user.id,
    kind: 'audio',
    engineJobId: null,
    purgedAt: null,
  });
  // Still there, for the purge.
  expect((await t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }))).ContentLength).toBe(3);
  // A second delete finds nothing.
  expect((await fetch(`${g.url}/v1/media/${mediaId}`, { method: 'DELETE', headers: auth })).status).toBe(404);
});
