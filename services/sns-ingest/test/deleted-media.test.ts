import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { EtSubject, type EtNotification } from '@mp/contracts';
import { eq } from 'drizzle-orm';
import {
  MediaRepository,
  MediaTombstonesRepository,
  NotifyOutboxRepository,
  media,
  runMigrations,
  type DbHandle,
} from '@mp/db';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { migrateSnsIngest } from '../src/server';
import { createDb, deliver, seedMedia, startFakeSns, startService, type FakeSns, type Running } from './helpers';

// What reaches sns-ingest for a media deleted while its engine job ran: the end of that job makes the
// media's purge due (in the message's transaction, once); nothing else does.
let t: TestEnv;
let sns: FakeSns;
let svc: Running;
let dbh: DbHandle;

beforeAll(async () => {
  t = await createTestEnv();
  await migrateSnsIngest(t.databaseUrl);
  sns = await startFakeSns();
  svc = await startService(t, sns);
  dbh = createDb(t.databaseUrl, { max: 2 });
});
afterAll(async () => {
  await svc?.close();
  await sns?.close();
  await dbh?.close();
  await t?.cleanup();
});

function etEnvelope(
  state: EtNotification['state'],
  seeded: { userId: string; mediaId: string; prefix: string },
  userId = seeded.userId,
) {
  const n: EtNotification = {
    state,
    version: '2012-09-25',
    jobId: `1464574390308-${seeded.mediaId.slice(0, 6)}`,
    pipelineId: '1464551986249-lqqtib',
    input: { key: `media/${seeded.userId}/${seeded.mediaId}/song.mp3` },
    outputKeyPrefix: seeded.prefix,
    outputs: [
      { id: '1', presetId: '1351620000001-300300', key: 'song.wav', status: state === 'ERROR' ? 'Error' : 'Complete' },
    ],
    userMetadata: { mediaId: seeded.mediaId, userId },
  };
  return sns.sign('Notification', JSON.stringify(n), { subject: EtSubject[state](n.jobId) });
}

/** A media deleted, then purged once already (before its engine job ended). */
async function deletedAndPurged() {
  const seeded = await seedMedia(dbh);
  const tombstones = new MediaTombstonesRepository(dbh.db);
  expect(await new MediaRepository(dbh.db).delete(seeded.mediaId)).toBe(true);
  const [claimed] = await tombstones.claimDue(60_000, 1, seeded.mediaId);
  expect(await tombstones.markPurged(claimed!)).toBe(true);
  return { seeded, tombstones, before: (await tombstones.get(seeded.mediaId))! };
}

describe('an engine notification for a deleted media', () => {
  it.each(['COMPLETED', 'ERROR'] as const)('%s makes its purge due, once, and is otherwise ignored', async (state) => {
    const { seeded, tombstones, before } = await deletedAndPurged();
    const envelope = etEnvelope(state, seeded);
    expect(await deliver(svc.url, envelope)).toEqual({ status: 200, body: { status: 'ignored' } });
    const woken = (await tombstones.get(seeded.mediaId))!;
    expect(woken.purgedAt).toBeNull();
    expect(woken.dueAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(woken.version).toBe(before.version + 1);
    // A redelivery changes nothing more; no notify was written for a media that is gone.
    expect(await deliver(svc.url, envelope)).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect((await tombstones.get(seeded.mediaId))!.version).toBe(woken.version);
    expect(await new NotifyOutboxRepository(dbh.db).count()).toBe(0);
  });

  it('PROGRESSING, or a job naming another user, leaves the tombstone as it was', async () => {
    const { seeded, tombstones, before } = await deletedAndPurged();
    expect((await deliver(svc.url, etEnvelope('PROGRESSING', seeded))).body).toEqual({ status: 'ignored' });
    expect(
      (await deliver(svc.url, etEnvelope('COMPLETED', seeded, '00000000-0000-4000-8000-000000000000'))).body,
    ).toEqual({
      status: 'ignored',
    });
    expect(await tombstones.get(seeded.mediaId)).toEqual(before);
  });
});

describe('an S3 event for a deleted media', () => {
  it('does not bring the media back; it makes its purge due', async () => {
    const { seeded, tombstones, before } = await deletedAndPurged();
    // The upload's event arrives late, while its object is still there.
    const key = `media/${seeded.userId}/${seeded.mediaId}/song.mp3`;
    await t.s3Client.send(
      new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: Buffer.from('ID3'), ContentType: 'audio/mpeg' }),
    );
    const event = {
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: t.bucket }, object: { key, size: 3 } } }],
    };
    const res = await deliver(
      svc.url,
      sns.sign('Notification', JSON.stringify(event), { subject: 'Amazon S3 Notification' }),
    );
    expect(res).toEqual({ status: 200, body: { status: 'ignored' } });
    expect(await dbh.db.select().from(media).where(eq(media.id, seeded.mediaId))).toEqual([]);
    const woken = (await tombstones.get(seeded.mediaId))!;
    expect([woken.purgedAt, woken.version]).toEqual([null, before.version + 1]);
  });
});

describe('migration 0001 of sns-ingest', () => {
  it('moves the notifies still waiting in sns_ingest.notify_outbox to the shared outbox', async () => {
    const env = await createTestEnv();
    const folder = await mkdtemp(path.join(tmpdir(), 'sns-ingest-migrations-'));
    try {
      // A database as the previous release left it: sns-ingest at 0000, one notify waiting.
      const migrations = new URL('../drizzle', import.meta.url).pathname;
      await cp(migrations, folder, { recursive: true });
      const journalFile = path.join(folder, 'meta/_journal.json');
      const journal = JSON.parse(await readFile(journalFile, 'utf8')) as { entries: unknown[] };
      await writeFile(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }));
      await runMigrations(env.databaseUrl, { folder, table: '__migrations_sns_ingest' });
      const sql = postgres(env.databaseUrl, { max: 1, onnotice: () => {} });
      try {
        const mediaId = '11111111-2222-4333-8444-555555555555';
        await sql`insert into sns_ingest.notify_outbox (media_id, kind, job_id) values (${mediaId}, 'media.complete', ${`media.complete-${mediaId}`})`;

        await migrateSnsIngest(env.databaseUrl);
        expect(await sql`select media_id, kind, job_id from public.notify_outbox`).toEqual([
          { media_id: mediaId, kind: 'media.complete', job_id: `media.complete-${mediaId}` },
        ]);
        expect(await sql`select to_regclass('sns_ingest.notify_outbox') as t`).toEqual([{ t: null }]);
      } finally {
        await sql.end();
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
      await env.cleanup();
    }
  });
});
