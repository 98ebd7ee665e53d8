import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ElasticTranscoderClient } from '@aws-sdk/client-elastic-transcoder';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueName, type NotifyJob, type TranscodeJob } from '@mp/contracts';
import { createUser } from '@mp/auth';
import { eq } from 'drizzle-orm';
import {
  MediaRepository,
  MediaTombstonesRepository,
  NotifyOutbox,
  TranscodeJobRepository,
  createDb,
  mediaTombstones,
  outputs,
  type DbHandle,
} from '@mp/db';
import { createLogger } from '@mp/logging';
import { createS3Client, mediaKey } from '@mp/storage';
import { createTestEnv, eventually, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { configSchema as gatewayConfigSchema } from '@mp/upload-gateway/src/config';
import { buildGateway, type Gateway } from '@mp/upload-gateway/src/server';
import { Engine } from '../src/engine';
import { handleTranscode, type TranscodeDeps } from '../src/jobs/transcode.job';
import { defaultProfile } from '../src/profile';
import { MediaPurge } from '../src/purge';

// An image is resized in dispatch itself, so no engine job tells of its end: a delete that lands between
// two of its uploads must still leave nothing. Real Postgres, Redis, S3 and the gateway's DELETE.
let t: TestEnv;
let gateway: Gateway;
let gatewayUrl: string;
let dbh: DbHandle;
let redis: Redis;
let notify: Queue<NotifyJob>;
let dir: string;
const log = createLogger('test', 'silent');

beforeAll(async () => {
  t = await createTestEnv();
  gateway = await buildGateway(
    gatewayConfigSchema.parse({ ...t.env, ADMIN_TOKEN: 'test-admin-token-0123456789', SWEEP_INTERVAL_MS: '60000' }),
  );
  gatewayUrl = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  dbh = createDb(t.databaseUrl, { max: 4 });
  redis = new Redis(t.redisUrl, { maxRetriesPerRequest: null });
  notify = new Queue(QueueName.notify, { connection: redis, prefix: t.queuePrefix });
  dir = await mkdtemp(path.join(tmpdir(), 'resize-delete-'));
});
afterAll(async () => {
  await gateway.close();
  await notify.close();
  redis.disconnect();
  await dbh.close();
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** An S3 client for dispatch that runs `during` once, right after the first output object is stored. */
function s3WithHookAfterFirstOutput(during: () => Promise<void>) {
  const s3 = createS3Client({ ...t.s3, forcePathStyle: true });
  let fired = false;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const key = (args.input as { Key?: string }).Key ?? '';
      if (!fired && context.commandName === 'PutObjectCommand' && key.startsWith('transcoded/')) {
        fired = true;
        await during();
      }
      return result;
    },
    { step: 'initialize', name: 'deleteDuringResize' },
  );
  return s3;
}

function deps(s3 = t.s3Client): TranscodeDeps {
  const engine = new Engine(
    new ElasticTranscoderClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    }),
    'media-pipeline',
  );
  return {
    db: dbh.db,
    media: new MediaRepository(dbh.db),
    jobs: new TranscodeJobRepository(dbh.db),
    tombstones: new MediaTombstonesRepository(dbh.db),
    engine,
    s3,
    bucket: t.bucket,
    profile: defaultProfile,
    outbox: new NotifyOutbox(dbh.db, notify, log),
  };
}

async function imageMedia() {
  const user = await createUser(dbh.db, `u-${randomUUID().slice(0, 8)}`);
  const id = randomUUID();
  const png = await readFile(await generateMedia('png', path.join(dir, `${id}.png`), { width: 640, height: 480 }));
  const key = mediaKey(user.id, id, 'photo.png');
  await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: png, ContentType: 'image/png' }));
  await new MediaRepository(dbh.db).insert({
    id,
    userId: user.id,
    name: 'photo.png',
    kind: 'image',
    contentType: 'image/png',
    size: png.length,
    s3Key: key,
  });
  return { user, mediaId: id };
}

const job = (mediaId: string) =>
  ({ data: { mediaId }, attemptsMade: 0, opts: { attempts: 8 } }) as unknown as Job<TranscodeJob>;

const del = (token: string, mediaId: string) =>
  fetch(`${gatewayUrl}/v1/media/${mediaId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });

async function objectsUnder(userId: string, mediaId: string): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of [`media/${userId}/${mediaId}/`, `transcoded/${userId}/${mediaId}/`]) {
    const page = await t.s3Client.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: prefix }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
  }
  return keys;
}

it('an image deleted between two of its resized uploads leaves no object, no row and no notification', async () => {
  const { user, mediaId } = await imageMedia();
  let status = 0;
  const s3 = s3WithHookAfterFirstOutput(async () => {
    status = (await del(user.token, mediaId)).status;
  });
  const d = deps(s3);
  expect(await handleTranscode(d, job(mediaId), log)).toBe('media gone');
  expect(status).toBe(204);
  expect(await objectsUnder(user.id, mediaId)).toEqual([]);
  expect(await dbh.db.select().from(outputs).where(eq(outputs.mediaId, mediaId))).toEqual([]);
  expect(await notify.getJobs(['waiting', 'delayed', 'active', 'completed'])).toEqual([]);
  // Its tombstone was woken and purges cleanly: nothing is left to remove.
  const purge = new MediaPurge({
    tombstones: d.tombstones,
    engine: d.engine,
    s3: t.s3Client,
    bucket: t.bucket,
    retryMs: 60_000,
    retentionMs: 60_000,
    log,
  });
  expect(await purge.sweep({ mediaId })).toBe(1);
  const [tomb] = await dbh.db.select().from(mediaTombstones).where(eq(mediaTombstones.mediaId, mediaId));
  expect(tomb?.purgedAt).toBeInstanceOf(Date);
  s3.destroy();
});

it('a transcode job picked up for a deleted media makes nothing', async () => {
  const { user, mediaId } = await imageMedia();
  expect((await del(user.token, mediaId)).status).toBe(204);
  expect(await handleTranscode(deps(), job(mediaId), log)).toBe('media gone');
  expect(await handleTranscode(deps(), job(mediaId), log)).toBe('media gone');
  expect(await objectsUnder(user.id, mediaId)).toEqual([]);
  expect(await notify.getJobs(['waiting', 'delayed', 'active', 'completed'])).toEqual([]);
});

it('a purge that is interrupted leaves its tombstone due, and a later sweep finishes it', async () => {
  const { user, mediaId } = await imageMedia();
  const tombstones = new MediaTombstonesRepository(dbh.db);
  // The delete committed its rows and tombstone, then the process died before touching S3.
  await new MediaRepository(dbh.db).delete(mediaId);
  const s3 = createS3Client({ ...t.s3, forcePathStyle: true });
  s3.middlewareStack.add(
    () => async () => {
      throw new Error('S3 unreachable');
    },
    { step: 'initialize', name: 'down' },
  );
  const down = new MediaPurge({
    tombstones,
    engine: deps().engine,
    s3,
    bucket: t.bucket,
    retryMs: 100,
    retentionMs: 60_000,
    log,
  });
  expect(await down.sweep({ mediaId })).toBe(0);
  expect(await objectsUnder(user.id, mediaId)).toEqual([`media/${user.id}/${mediaId}/photo.png`]);
  expect((await tombstones.get(mediaId))?.purgedAt).toBeNull();
  const up = new MediaPurge({
    tombstones,
    engine: deps().engine,
    s3: t.s3Client,
    bucket: t.bucket,
    retryMs: 100,
    retentionMs: 60_000,
    log,
  });
  await eventually(async () => (await up.sweep({ mediaId })) === 1);
  expect(await objectsUnder(user.id, mediaId)).toEqual([]);
  s3.destroy();
});
