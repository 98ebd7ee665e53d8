import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { JobName, QueueName, jobOptions, transcodeJobId } from '@mp/contracts';
import { createUser } from '@mp/auth';
import { MediaRepository, createDb, type DbHandle } from '@mp/db';
import { createTestEnv, eventually, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { mediaKey } from '@mp/storage';
import { configSchema } from '../src/config';
import { buildDispatch, type Dispatch } from '../src/server';

let t: TestEnv;
let d: Dispatch;
let dbh: DbHandle;
let redis: Redis;
let transcode: Queue;
let notify: Queue;

beforeAll(async () => {
  t = await createTestEnv();
  // No engine is needed for images; the endpoint is never called.
  const cfg = configSchema.parse({
    ...t.env,
    ET_ENDPOINT: 'http://127.0.0.1:9',
    ET_ACCESS_KEY_ID: 'x',
    ET_SECRET_ACCESS_KEY: 'y',
  });
  d = await buildDispatch(cfg);
  dbh = createDb(t.databaseUrl, { max: 2 });
  redis = new Redis(t.redisUrl, { maxRetriesPerRequest: null });
  transcode = new Queue(QueueName.transcode, { connection: redis, prefix: t.queuePrefix });
  notify = new Queue(QueueName.notify, { connection: redis, prefix: t.queuePrefix });
});
afterAll(async () => {
  await d.close();
  await transcode.close();
  await notify.close();
  redis.disconnect();
  await dbh.close();
  await t.cleanup();
});

it('resizes an image to exactly half size and a 320 px thumbnail, then queues the owner notification', async () => {
  const user = await createUser(dbh.db, 'alice');
  const mediaId = randomUUID();
  const png = await readFile(
    await generateMedia('png', path.join(await mkdtemp(path.join(tmpdir(), 'd-')), 'p.png'), {
      width: 640,
      height: 480,
    }),
  );
  const key = mediaKey(user.id, mediaId, 'photo.png');
  await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: png, ContentType: 'image/png' }));
  const repo = new MediaRepository(dbh.db);
  await repo.insert({
    id: mediaId,
    userId: user.id,
    name: 'photo.png',
    kind: 'image',
    contentType: 'image/png',
    size: png.length,
    s3Key: key,
  });

  // Twice: a redelivered job must not make a second set of outputs or a second notification.
  await transcode.add(JobName.transcode, { mediaId }, jobOptions('transcode', transcodeJobId(mediaId)));
  await eventually(async () => (await repo.get(mediaId))?.status === 'complete');
  await transcode.add(JobName.transcode, { mediaId }, jobOptions('transcode', `again-${mediaId}`));
  await eventually(async () => (await transcode.getJobCounts('completed')).completed === 2);

  const outs = await repo.outputsOf(mediaId);
  expect(outs.map((o) => [o.format, o.status, o.width, o.height, o.s3Key]).sort()).toEqual([
    ['half', 'complete', 320, 240, `transcoded/${user.id}/${mediaId}/photo-half.png`],
    ['thumb-320', 'complete', 320, 240, `transcoded/${user.id}/${mediaId}/photo-320.png`],
  ]);
  const half = await t.s3Client.send(
    new GetObjectCommand({ Bucket: t.bucket, Key: `transcoded/${user.id}/${mediaId}/photo-half.png` }),
  );
  const meta = await sharp(Buffer.from(await half.Body!.transformToByteArray())).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 320, 240]);
  const jobs = await notify.getJobs(['waiting', 'delayed', 'completed', 'active']);
  expect(jobs.map((j) => j.data)).toEqual([{ mediaId, kind: 'media.complete' }]);
});

it('fails a corrupt image with a readable reason, without retrying', async () => {
  const user = await createUser(dbh.db, 'bob');
  const mediaId = randomUUID();
  const key = mediaKey(user.id, mediaId, 'broken.png');
  const bytes = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('garbage'.repeat(100))]);
  await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: bytes }));
  const repo = new MediaRepository(dbh.db);
  await repo.insert({
    id: mediaId,
    userId: user.id,
    name: 'broken.png',
    kind: 'image',
    contentType: 'image/png',
    size: bytes.length,
    s3Key: key,
  });
  await transcode.add(JobName.transcode, { mediaId }, jobOptions('transcode', transcodeJobId(mediaId)));
  const m = await eventually(async () => {
    const row = await repo.get(mediaId);
    return row?.status === 'failed' ? row : null;
  });
  expect(m.statusDetail).toMatch(/^The image could not be processed: /);
  const job = await transcode.getJob(transcodeJobId(mediaId));
  expect(job?.attemptsMade).toBe(1);
});
