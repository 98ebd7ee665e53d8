import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ElasticTranscoderClient } from '@aws-sdk/client-elastic-transcoder';
import { Queue, UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueName, notifyJobId, type NotifyJob, type TranscodeJob } from '@mp/contracts';
import { createUser } from '@mp/auth';
import { eq } from 'drizzle-orm';
import {
  MediaRepository,
  MediaTombstonesRepository,
  NotifyOutbox,
  NotifyOutboxRepository,
  TranscodeJobRepository,
  createDb,
  notifications,
  type DbHandle,
  type NotifyQueue,
} from '@mp/db';
import { createLogger } from '@mp/logging';
import { loadNotifierConfig, startNotifier, type RunningNotifier } from '@mp/notifier';
import { mediaKey } from '@mp/storage';
import { createTestEnv, eventually, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { configSchema } from '../src/config';
import { Engine } from '../src/engine';
import { handleTranscode, type TranscodeDeps } from '../src/jobs/transcode.job';
import { defaultProfile } from '../src/profile';
import { buildDispatch } from '../src/server';

// dispatch marks a media complete or failed and announces it through the outbox: when the add to Redis
// fails, the notification still reaches the owner, once. Real Postgres, Redis, S3 and the notifier.
let t: TestEnv;
let dbh: DbHandle;
let redis: Redis;
let notify: Queue<NotifyJob>;
let notifier: RunningNotifier;
let dir: string;
const log = createLogger('test', 'silent');

beforeAll(async () => {
  t = await createTestEnv();
  dbh = createDb(t.databaseUrl, { max: 4 });
  redis = new Redis(t.redisUrl, { maxRetriesPerRequest: null });
  notify = new Queue(QueueName.notify, { connection: redis, prefix: t.queuePrefix });
  notifier = await startNotifier(loadNotifierConfig({ ...t.env, PORT: '0', HOST: '127.0.0.1' }));
  dir = await mkdtemp(path.join(tmpdir(), 'dispatch-outbox-'));
});
afterAll(async () => {
  await notifier.close();
  await notify.close();
  redis.disconnect();
  await dbh.close();
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await dbh.db.delete(notifications);
});

/** The notify queue, except that its first add fails as it does while Redis is unreachable. */
function queueFailingOnce(): NotifyQueue & { failures: number } {
  const q = {
    failures: 0,
    add: (...args: Parameters<NotifyQueue['add']>) => {
      if (q.failures === 0) {
        q.failures += 1;
        return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
      }
      return notify.add(...args);
    },
  };
  return q;
}

function deps(outbox: NotifyOutbox): TranscodeDeps {
  const engine = new Engine(
    new ElasticTranscoderClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    }),
    'media-pipeline',
  );
  return {
    db: dbh.db,
    media: new MediaRepository(dbh.db),
    jobs: new TranscodeJobRepository(dbh.db),
    tombstones: new MediaTombstonesRepository(dbh.db),
    engine,
    s3: t.s3Client,
    bucket: t.bucket,
    profile: defaultProfile,
    outbox,
  };
}

async function insertMedia(kind: 'image' | 'audio') {
  const user = await createUser(dbh.db, `u-${randomUUID().slice(0, 8)}`);
  const id = randomUUID();
  const name = kind === 'image' ? 'photo.png' : 'song.mp3';
  const body =
    kind === 'image' ? await readFile(await generateMedia('png', path.join(dir, `${id}.png`))) : Buffer.from('ID3');
  const key = mediaKey(user.id, id, name);
  await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: body }));
  const contentType = kind === 'image' ? 'image/png' : 'audio/mpeg';
  await new MediaRepository(dbh.db).insert({
    id,
    userId: user.id,
    name,
    kind,
    contentType,
    size: body.length,
    s3Key: key,
  });
  return { userId: user.id, mediaId: id };
}

const job = (mediaId: string, attemptsMade = 0) =>
  ({ data: { mediaId }, attemptsMade, opts: { attempts: 8 } }) as unknown as Job<TranscodeJob>;

const notificationsOf = (mediaId: string) =>
  dbh.db.select().from(notifications).where(eq(notifications.mediaId, mediaId));

async function notifyJobsOf(mediaId: string) {
  const jobs = await notify.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
  return jobs.filter((j) => j.data.mediaId === mediaId).map((j) => j.id);
}

/** Lets the notifier drain, then checks nothing more arrives. */
async function settled(mediaId: string) {
  await eventually(async () => {
    const c = await notify.getJobCounts('waiting', 'active');
    return (c.waiting ?? 0) + (c.active ?? 0) === 0;
  });
  await new Promise((r) => setTimeout(r, 300));
  return notificationsOf(mediaId);
}

describe('a notify whose add to Redis fails', () => {
  it('still reaches the owner once when an image completes: the outbox keeps it and the sweep sends it', async () => {
    const { userId, mediaId } = await insertMedia('image');
    const queue = queueFailingOnce();
    const outbox = new NotifyOutbox(dbh.db, queue, log);
    expect(await handleTranscode(deps(outbox), job(mediaId), log)).toBe('image done');
    expect(queue.failures).toBe(1);
    // The state change is committed, and its notify waits in the outbox rather than being lost.
    expect((await new MediaRepository(dbh.db).get(mediaId))?.status).toBe('complete');
    expect(await notifyJobsOf(mediaId)).toEqual([]);
    expect(await new NotifyOutboxRepository(dbh.db).count()).toBe(1);
    // The retry of the job finds the media complete, and adds nothing.
    expect(await handleTranscode(deps(outbox), job(mediaId, 1), log)).toBe('already complete');
    expect(await new NotifyOutboxRepository(dbh.db).count()).toBe(1);

    expect(await outbox.sweep(0)).toBe(1);
    expect(await outbox.sweep(0)).toBe(0);
    const stored = await eventually(async () => {
      const rows = await notificationsOf(mediaId);
      return rows.length > 0 ? rows : null;
    });
    expect(stored.map((n) => [n.userId, n.kind])).toEqual([[userId, 'media.complete']]);
    expect(await settled(mediaId)).toHaveLength(1);
    expect(await notifyJobsOf(mediaId)).toEqual([notifyJobId(mediaId, 'media.complete')]);
  });

  it('still reaches the owner once when a media fails for good', async () => {
    const { userId, mediaId } = await insertMedia('audio');
    const queue = queueFailingOnce();
    const outbox = new NotifyOutbox(dbh.db, queue, log);
    // The last attempt, against an engine that does not answer.
    const err = await handleTranscode(deps(outbox), job(mediaId, 7), log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((await new MediaRepository(dbh.db).get(mediaId))?.status).toBe('failed');
    expect(await notifyJobsOf(mediaId)).toEqual([]);
    expect(await outbox.sweep(0)).toBe(1);
    const stored = await eventually(async () => {
      const rows = await notificationsOf(mediaId);
      return rows.length > 0 ? rows : null;
    });
    expect(stored.map((n) => [n.userId, n.kind])).toEqual([[userId, 'media.failed']]);
    expect(await settled(mediaId)).toHaveLength(1);
  });

  it('left behind by a crash between commit and add, is sent by the running service’s sweep, once', async () => {
    const { userId, mediaId } = await insertMedia('image');
    // What a process that died right after committing leaves: the media complete, its notify in the outbox.
    await dbh.db.transaction(async (tx) => {
      await new TranscodeJobRepository(tx).markMediaComplete(mediaId);
      await new NotifyOutboxRepository(tx).add({
        mediaId,
        kind: 'media.complete',
        jobId: notifyJobId(mediaId, 'media.complete'),
      });
    });
    const d = await buildDispatch(
      configSchema.parse({
        ...t.env,
        ET_ENDPOINT: 'http://127.0.0.1:9',
        ET_ACCESS_KEY_ID: 'x',
        ET_SECRET_ACCESS_KEY: 'y',
        OUTBOX_SWEEP_INTERVAL_MS: '100',
        OUTBOX_MIN_AGE_MS: '0',
      }),
    );
    try {
      const stored = await eventually(async () => {
        const rows = await notificationsOf(mediaId);
        return rows.length > 0 ? rows : null;
      });
      expect(stored.map((n) => [n.userId, n.kind])).toEqual([[userId, 'media.complete']]);
      expect(await new NotifyOutboxRepository(dbh.db).count()).toBe(0);
      expect(await settled(mediaId)).toHaveLength(1);
    } finally {
      await d.close();
    }
  });
});
