import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtSubject, JobName, QueueName, transcodeJobId, type EtNotification, type NotifyJob } from '@mp/contracts';
import { eq, sql } from 'drizzle-orm';
import { media, outputs, snsMessages, type DbHandle } from '@mp/db';
import { createTestEnv, freePort, type TestEnv } from '@mp/testbed';
import { createDb, deliver, seedMedia, startFakeSns, startService, TOPIC, type FakeSns, type Running } from './helpers';

let t: TestEnv;
let sns: FakeSns;
let svc: Running;
let dbh: DbHandle;
let redis: Redis;
let notifyQueue: Queue<NotifyJob>;
let transcodeQueue: Queue;

beforeAll(async () => {
  t = await createTestEnv();
  const { migrateSnsIngest } = await import('../src/server');
  await migrateSnsIngest(t.databaseUrl);
  sns = await startFakeSns();
  svc = await startService(t, sns);
  dbh = createDb(t.databaseUrl, { max: 2 });
  redis = new Redis(t.redisUrl, { maxRetriesPerRequest: null });
  notifyQueue = new Queue(QueueName.notify, { connection: redis, prefix: t.queuePrefix });
  transcodeQueue = new Queue(QueueName.transcode, { connection: redis, prefix: t.queuePrefix });
});

afterAll(async () => {
  await svc?.close();
  await sns?.close();
  await notifyQueue?.close();
  await transcodeQueue?.close();
  redis?.disconnect();
  await dbh?.close();
  await t?.cleanup();
});

/** ET writes its Message pretty-printed, Jackson style. */
function etMessage(n: EtNotification): string {
  return JSON.stringify(n, null, 2).replace(/": /g, '" : ');
}

function et(
  state: EtNotification['state'],
  seeded: { userId: string; mediaId: string; prefix: string },
  over: Partial<EtNotification> = {},
) {
  return {
    state,
    version: '2012-09-25',
    jobId: `1464574390308-${seeded.mediaId.slice(0, 6)}`,
    pipelineId: '1464551986249-lqqtib',
    input: { key: `media/${seeded.userId}/${seeded.mediaId}/song.mp3` },
    outputKeyPrefix: seeded.prefix,
    outputs: [],
    userMetadata: { mediaId: seeded.mediaId, userId: seeded.userId },
    ...over,
  } satisfies EtNotification;
}

function etEnvelope(n: EtNotification, opts: Parameters<FakeSns['sign']>[2] = {}) {
  return sns.sign('Notification', etMessage(n), { subject: EtSubject[n.state](n.jobId), ...opts });
}

async function notifyJobs(mediaId: string) {
  const jobs = await notifyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
  return jobs
    .filter((j) => j.data.mediaId === mediaId)
    .map((j) => ({ name: j.name, kind: j.data.kind, id: j.id }))
    .sort((a, b) => a.kind.localeCompare(b.kind));
}

async function mediaRow(id: string) {
  const [row] = await dbh.db.select().from(media).where(eq(media.id, id));
  return row!;
}

async function outputRows(mediaId: string) {
  const rows = await dbh.db.select().from(outputs).where(eq(outputs.mediaId, mediaId));
  return Object.fromEntries(rows.map((o) => [o.format, o]));
}

async function snsMessageCount(): Promise<number> {
  const [row] = await dbh.db.select({ n: sql<number>`count(*)::int` }).from(snsMessages);
  return row!.n;
}

describe('Elastic Transcoder notifications', () => {
  it('PROGRESSING moves the media to processing, its outputs to progressing, and queues media.processing', async () => {
    const seeded = await seedMedia(dbh);
    const n = et('PROGRESSING', seeded, {
      outputs: [
        { id: '1', presetId: '1351620000001-300300', key: 'song.wav', status: 'Progressing' },
        { id: '2', presetId: '1351620000001-300110', key: 'song.flac', status: 'Progressing' },
      ],
    });
    const res = await deliver(svc.url, etEnvelope(n));
    expect(res).toEqual({ status: 200, body: { status: 'processed' } });

    expect(await mediaRow(seeded.mediaId)).toMatchObject({ status: 'processing', progress: null });
    const outs = await outputRows(seeded.mediaId);
    expect([outs.wav!.status, outs.flac!.status, outs.mp4!.status]).toEqual(['progressing', 'progressing', 'pending']);
    expect(await notifyJobs(seeded.mediaId)).toEqual([
      { name: JobName.notify, kind: 'media.processing', id: `media.processing-${seeded.mediaId}` },
    ]);
  });

  it('progress: a new figure queues media.progress once; the same or a lower figure queues nothing', async () => {
    const seeded = await seedMedia(dbh);
    await deliver(svc.url, etEnvelope(et('PROGRESSING', seeded)));
    expect((await deliver(svc.url, etEnvelope(et('PROGRESSING', seeded, { progress: 40 })))).status).toBe(200);
    expect((await deliver(svc.url, etEnvelope(et('PROGRESSING', seeded, { progress: 40 })))).status).toBe(200);
    expect((await deliver(svc.url, etEnvelope(et('PROGRESSING', seeded, { progress: 25 })))).status).toBe(200);

    expect((await mediaRow(seeded.mediaId)).progress).toBe(40);
    expect((await notifyJobs(seeded.mediaId)).map((j) => j.kind)).toEqual(['media.processing', 'media.progress']);
  });

  it('COMPLETED (SignatureVersion 1) completes the outputs with size, duration and dimensions, and the media', async () => {
    const seeded = await seedMedia(dbh);
    const n = et('COMPLETED', seeded, {
      outputs: [
        {
          id: '1',
          presetId: '1351620000001-300300',
          key: 'song.wav',
          status: 'Complete',
          duration: 3,
          fileSize: 529_244,
        },
        {
          id: '2',
          presetId: '1351620000001-300110',
          key: 'song.flac',
          status: 'Complete',
          durationMillis: 3_012,
          fileSize: 200_000,
        },
        {
          id: '3',
          presetId: '1351620000001-100110',
          key: 'song.mp4',
          status: 'Complete',
          duration: 3,
          width: 1280,
          height: 720,
        },
      ],
    });
    const res = await deliver(svc.url, etEnvelope(n, { version: '1' }));
    expect(res).toEqual({ status: 200, body: { status: 'processed' } });

    expect(await mediaRow(seeded.mediaId)).toMatchObject({ status: 'complete', progress: 100, statusDetail: null });
    const outs = await outputRows(seeded.mediaId);
    expect(outs.wav).toMatchObject({ status: 'complete', size: 529_244, durationMs: 3000, width: null, height: null });
    expect(outs.flac).toMatchObject({ status: 'complete', size: 200_000, durationMs: 3012 });
    expect(outs.mp4).toMatchObject({ status: 'complete', durationMs: 3000, width: 1280, height: 720 });
    expect(await notifyJobs(seeded.mediaId)).toEqual([
      { name: JobName.notify, kind: 'media.complete', id: `media.complete-${seeded.mediaId}` },
    ]);
  });

  it('a late PROGRESSING after COMPLETED changes nothing and notifies nobody', async () => {
    const seeded = await seedMedia(dbh);
    const outputsReport = [{ id: '1', presetId: 'p', key: 'song.wav', status: 'Complete' as const, duration: 3 }];
    await deliver(svc.url, etEnvelope(et('COMPLETED', seeded, { outputs: outputsReport })));
    const late = et('PROGRESSING', seeded, {
      progress: 10,
      outputs: [{ id: '1', presetId: 'p', key: 'song.wav', status: 'Progressing' }],
    });
    expect((await deliver(svc.url, etEnvelope(late))).status).toBe(200);

    expect(await mediaRow(seeded.mediaId)).toMatchObject({ status: 'complete', progress: 100 });
    expect((await outputRows(seeded.mediaId)).wav!.status).toBe('complete');
    expect((await notifyJobs(seeded.mediaId)).map((j) => j.kind)).toEqual(['media.complete']);
  });

  it('ERROR fails the media with a readable reason and its failing outputs, and queues media.failed', async () => {
    const seeded = await seedMedia(dbh);
    const n = et('ERROR', seeded, {
      outputs: [
        {
          id: '1',
          presetId: '1351620000001-300300',
          key: 'song.wav',
          status: 'Error',
          errorCode: 4000,
          statusDetail:
            '4000 68c8117b-a562-42a7-8cd7-ad6d4e74b885:Amazon Elastic Transcoder could not interpret the media file.',
        },
        { id: '2', presetId: '1351620000001-300110', key: 'song.flac', status: 'Complete', duration: 3 },
      ],
    });
    expect((await deliver(svc.url, etEnvelope(n))).status).toBe(200);

    const reason = 'Amazon Elastic Transcoder could not interpret the media file. (error 4000)';
    expect(await mediaRow(seeded.mediaId)).toMatchObject({ status: 'failed', statusDetail: reason });
    const outs = await outputRows(seeded.mediaId);
    expect(outs.wav).toMatchObject({ status: 'error', statusDetail: reason });
    expect(outs.flac).toMatchObject({ status: 'complete', durationMs: 3000 });
    expect(outs.mp4!.status).toBe('pending');
    expect((await notifyJobs(seeded.mediaId)).map((j) => j.kind)).toEqual(['media.failed']);
  });

  it('the same message delivered twice is processed once: one sns_messages row, one notify job', async () => {
    const seeded = await seedMedia(dbh);
    const envelope = etEnvelope(
      et('COMPLETED', seeded, { outputs: [{ id: '1', presetId: 'p', key: 'song.wav', status: 'Complete' }] }),
    );
    const before = await snsMessageCount();
    const [first, second] = [await deliver(svc.url, envelope), await deliver(svc.url, envelope)];
    expect(first).toEqual({ status: 200, body: { status: 'processed' } });
    expect(second).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect(await snsMessageCount()).toBe(before + 1);
    expect(await notifyJobs(seeded.mediaId)).toHaveLength(1);
  });

  it('a delivery whose topic sets headerContentType application/json, or none, is read the same', async () => {
    const seeded = await seedMedia(dbh);
    const json = await deliver(svc.url, etEnvelope(et('PROGRESSING', seeded)), {
      'content-type': 'application/json; charset=UTF-8',
    });
    expect(json).toEqual({ status: 200, body: { status: 'processed' } });
    const bare = await fetch(`${svc.url}/sns`, {
      method: 'POST',
      body: new Blob([JSON.stringify(etEnvelope(et('PROGRESSING', seeded, { progress: 5 })))]),
    });
    expect(bare.status).toBe(200);
    expect((await mediaRow(seeded.mediaId)).progress).toBe(5);
  });

  it('a message for a media that no longer exists is acknowledged and changes nothing', async () => {
    const n = et('COMPLETED', { userId: randomUUID(), mediaId: randomUUID(), prefix: 'transcoded/x/' });
    expect(await deliver(svc.url, etEnvelope(n))).toEqual({ status: 200, body: { status: 'ignored' } });
  });
});

describe('refused deliveries write nothing', () => {
  let seeded: Awaited<ReturnType<typeof seedMedia>>;
  let before: number;

  beforeAll(async () => {
    seeded = await seedMedia(dbh);
  });

  async function expectRefused(res: { status: number; body: Record<string, unknown> }, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(await snsMessageCount()).toBe(before);
    expect(await mediaRow(seeded.mediaId)).toMatchObject({ status: 'queued', progress: null });
    expect(await notifyJobs(seeded.mediaId)).toEqual([]);
  }

  beforeAll(async () => {
    before = await snsMessageCount();
  });

  it('a forged signature → 403', async () => {
    const envelope = etEnvelope(et('COMPLETED', seeded));
    const forged = { ...envelope, Message: envelope.Message.replace('COMPLETED', 'ERROR') };
    await expectRefused(await deliver(svc.url, forged), 403, 'SNS_BAD_SIGNATURE');
  });

  it('a message signed by another key, served from the allowed host → 403', async () => {
    const other = await startFakeSns();
    try {
      const envelope = other.sign('Notification', etMessage(et('COMPLETED', seeded)), { certUrl: sns.certUrl });
      await expectRefused(await deliver(svc.url, envelope), 403, 'SNS_BAD_SIGNATURE');
    } finally {
      await other.close();
    }
  });

  it('a foreign topic → 403, by header as the seed checks it, and by body', async () => {
    const foreign = 'arn:aws:sns:eu-west-1:999999999999:elsewhere';
    const envelope = etEnvelope(et('COMPLETED', seeded), { topicArn: foreign });
    await expectRefused(await deliver(svc.url, envelope), 403, 'SNS_TOPIC');
    await expectRefused(await deliver(svc.url, envelope, { 'x-amz-sns-topic-arn': TOPIC }), 400, 'SNS_HEADER_MISMATCH');
    // Without the x-amz-sns-* headers the body's TopicArn is checked.
    await expectRefused(await deliver(svc.url, JSON.stringify(envelope)), 403, 'SNS_TOPIC');
  });

  it('a certificate URL on a foreign host → 403, without fetching it', async () => {
    const fetchesBefore = sns.certFetches;
    const envelope = etEnvelope(et('COMPLETED', seeded), {
      certUrl: `http://localhost:${sns.host.split(':')[1]}/SimpleNotificationService-test.pem`,
    });
    await expectRefused(await deliver(svc.url, envelope), 403, 'SNS_CERT_HOST');
    const aws = etEnvelope(et('COMPLETED', seeded), {
      certUrl: 'https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem',
    });
    await expectRefused(await deliver(svc.url, aws), 403, 'SNS_CERT_HOST');
    expect(sns.certFetches).toBe(fetchesBefore);
  });

  it('a stale Timestamp → 403', async () => {
    const envelope = etEnvelope(et('COMPLETED', seeded), { timestamp: new Date(Date.now() - 2 * 3600_000) });
    await expectRefused(await deliver(svc.url, envelope), 403, 'SNS_EXPIRED');
  });

  it('a body over SNS_MAX_BODY_BYTES → 413', async () => {
    const envelope = etEnvelope(et('COMPLETED', seeded, { messageDetails: 'x'.repeat(300 * 1024) }));
    await expectRefused(await deliver(svc.url, envelope), 413, 'SNS_BODY_TOO_LARGE');
  });

  it('non-JSON, missing fields, an unknown Type → 400', async () => {
    await expectRefused(await deliver(svc.url, '{"Type": "Notification",'), 400, 'SNS_MALFORMED');
    const envelope = etEnvelope(et('COMPLETED', seeded));
    const { Signature: _s, ...unsigned } = envelope;
    void _s;
    await expectRefused(await deliver(svc.url, JSON.stringify(unsigned)), 400, 'SNS_MALFORMED');
    await expectRefused(
      await deliver(svc.url, JSON.stringify({ ...envelope, Type: 'Surprise' })),
      400,
      'SNS_MALFORMED',
    );
    await expectRefused(
      await deliver(svc.url, JSON.stringify({ ...envelope, SignatureVersion: '3' })),
      400,
      'SNS_BAD_SIGNATURE_VERSION',
    );
    await expectRefused(await deliver(svc.url, ''), 400, 'SNS_MALFORMED');
  });

  it('a signed Message that is not a usable ET notification → 400', async () => {
    const noMetadata = sns.sign('Notification', JSON.stringify({ ...et('COMPLETED', seeded), userMetadata: {} }));
    await expectRefused(await deliver(svc.url, noMetadata), 400, 'SNS_BAD_MESSAGE');
    await expectRefused(await deliver(svc.url, sns.sign('Notification', 'hello')), 400, 'SNS_BAD_MESSAGE');
    await expectRefused(
      await deliver(svc.url, sns.sign('Notification', '{"what":"ever"}')),
      400,
      'SNS_UNKNOWN_MESSAGE',
    );
  });
});

describe('certificate URLs over http when https is required', () => {
  it('are refused with 403 before any fetch', async () => {
    const strict = await startService(t, sns, { SNS_REQUIRE_HTTPS: 'true' });
    try {
      const fetchesBefore = sns.certFetches;
      const seeded = await seedMedia(dbh);
      const res = await deliver(strict.url, etEnvelope(et('COMPLETED', seeded)));
      expect(res).toEqual({ status: 403, body: { error: { code: 'SNS_CERT_HOST', message: expect.any(String) } } });
      expect(sns.certFetches).toBe(fetchesBefore);
      expect((await mediaRow(seeded.mediaId)).status).toBe('queued');
    } finally {
      await strict.close();
    }
  });
});

describe('subscriptions', () => {
  it('a SubscriptionConfirmation is confirmed by one GET on its SubscribeURL, a redelivery adds none', async () => {
    const envelope = sns.sign('SubscriptionConfirmation', `You have chosen to subscribe to the topic ${TOPIC}.`);
    expect(await deliver(svc.url, envelope)).toEqual({ status: 200, body: { status: 'confirmed' } });
    expect(await deliver(svc.url, envelope)).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect(sns.confirmations).toEqual([envelope.Token]);
  });

  it('a SubscribeURL on a host that is not allowed is never fetched → 403', async () => {
    const hits = sns.confirmations.length;
    const port = sns.host.split(':')[1];
    const envelope = sns.sign('SubscriptionConfirmation', 'subscribe?', {
      subscribeUrl: `http://localhost:${port}/?Action=ConfirmSubscription&Token=nope`,
    });
    const res = await deliver(svc.url, envelope);
    expect(res).toEqual({
      status: 403,
      body: { error: { code: 'SNS_SUBSCRIBE_URL_HOST', message: expect.any(String) } },
    });
    expect(sns.confirmations).toHaveLength(hits);
  });

  it('a SubscriptionConfirmation for a foreign topic is refused and not confirmed', async () => {
    const hits = sns.confirmations.length;
    const envelope = sns.sign('SubscriptionConfirmation', 'subscribe?', {
      topicArn: 'arn:aws:sns:eu-west-1:999999999999:elsewhere',
    });
    expect((await deliver(svc.url, envelope)).status).toBe(403);
    expect(sns.confirmations).toHaveLength(hits);
  });

  it('an UnsubscribeConfirmation is acknowledged and not followed', async () => {
    const hits = sns.confirmations.length;
    const envelope = sns.sign('UnsubscribeConfirmation', 'You have chosen to deactivate subscription.');
    expect(await deliver(svc.url, envelope)).toEqual({ status: 200, body: { status: 'unsubscribed' } });
    expect(sns.confirmations).toHaveLength(hits);
  });
});

describe('S3 event notifications', () => {
  /** The seed's Lambda test event, with our bucket and a real key. */
  function seedS3Event(bucket: string, key: string) {
    return {
      Records: [
        {
          eventVersion: '2.0',
          eventTime: '2016-12-15T21:20:44.231Z',
          requestParameters: { sourceIPAddress: 'IP_ADDRESS' },
          s3: {
            configurationId: 'configurationId',
            object: { eTag: 'eTag', sequencer: 'sequencer', key, size: 571258 },
            bucket: { arn: `arn:aws:s3:::${bucket}`, name: bucket, ownerIdentity: { principalId: 'YOUR_BUCKET_ID' } },
            s3SchemaVersion: '1.0',
          },
          responseElements: { 'x-amz-id-2': 'x-amz-id-2', 'x-amz-request-id': 'x-amz-request-id' },
          awsRegion: 'eu-west-1',
          eventName: 'ObjectCreated:Put',
          userIdentity: { principalId: 'AWS:USER_ID' },
          eventSource: 'aws:s3',
        },
      ],
    };
  }

  function s3Envelope(event: unknown) {
    return sns.sign('Notification', JSON.stringify(event), { subject: 'Amazon S3 Notification' });
  }

  async function put(key: string, contentType: string) {
    await t.s3Client.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: key,
        Body: Buffer.from('ID3 not really audio'),
        ContentType: contentType,
      }),
    );
  }

  it('a direct upload to media/<userId>/<mediaId>/song.mp3 creates its media row and queues transcode', async () => {
    const { userId } = await seedMedia(dbh, []);
    const mediaId = randomUUID();
    const key = `media/${userId}/${mediaId}/my song.mp3`;
    await put(key, 'audio/mpeg');

    const res = await deliver(svc.url, s3Envelope(seedS3Event(t.bucket, key.replace(' ', '+'))));
    expect(res).toEqual({ status: 200, body: { status: 'processed' } });

    expect(await mediaRow(mediaId)).toMatchObject({
      id: mediaId,
      userId,
      name: 'my song.mp3',
      kind: 'audio',
      contentType: 'audio/mpeg',
      size: 20,
      s3Key: key,
      source: 's3-event',
      status: 'queued',
    });
    expect((await mediaRow(mediaId)).enqueuedAt).toBeInstanceOf(Date);
    const job = await transcodeQueue.getJob(transcodeJobId(mediaId));
    expect(job?.name).toBe(JobName.transcode);
    expect(job?.data).toEqual({ mediaId });
  });

  it('kind comes from the extension when the Content-Type says nothing; other objects are ignored', async () => {
    const { userId } = await seedMedia(dbh, []);
    const video = randomUUID();
    const pdf = randomUUID();
    await put(`media/${userId}/${video}/clip.mov`, 'application/octet-stream');
    await put(`media/${userId}/${pdf}/doc.pdf`, 'application/pdf');
    const event = seedS3Event(t.bucket, `media/${userId}/${video}/clip.mov`);
    event.Records.push(seedS3Event(t.bucket, `media/${userId}/${pdf}/doc.pdf`).Records[0]!);

    expect((await deliver(svc.url, s3Envelope(event))).status).toBe(200);
    expect(await mediaRow(video)).toMatchObject({ kind: 'video', contentType: 'video/quicktime' });
    const [none] = await dbh.db.select().from(media).where(eq(media.id, pdf));
    expect(none).toBeUndefined();
    expect(await transcodeQueue.getJob(transcodeJobId(pdf))).toBeUndefined();
  });

  it('an upload for a user that does not exist creates nothing', async () => {
    const mediaId = randomUUID();
    const key = `media/${randomUUID()}/${mediaId}/song.mp3`;
    await put(key, 'audio/mpeg');
    expect(await deliver(svc.url, s3Envelope(seedS3Event(t.bucket, key)))).toEqual({
      status: 200,
      body: { status: 'ignored' },
    });
    const [none] = await dbh.db.select().from(media).where(eq(media.id, mediaId));
    expect(none).toBeUndefined();
  });

  it('an object under transcoded/ does nothing', async () => {
    const { userId, mediaId, prefix } = await seedMedia(dbh, []);
    await put(`${prefix}song.wav`, 'audio/wav');
    const before = await dbh.db.select({ n: sql<number>`count(*)::int` }).from(media);
    const res = await deliver(svc.url, s3Envelope(seedS3Event(t.bucket, `transcoded/${userId}/${mediaId}/song.wav`)));
    expect(res).toEqual({ status: 200, body: { status: 'ignored' } });
    expect(await dbh.db.select({ n: sql<number>`count(*)::int` }).from(media)).toEqual(before);
    expect(await transcodeQueue.getJob(transcodeJobId(mediaId))).toBeUndefined();
  });

  it("S3's s3:TestEvent is acknowledged and ignored", async () => {
    const before = await dbh.db.select({ n: sql<number>`count(*)::int` }).from(media);
    const testEvent = {
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2014-10-13T15:57:02.089Z',
      Bucket: t.bucket,
      RequestId: 'r',
      HostId: 'h',
    };
    expect(await deliver(svc.url, s3Envelope(testEvent))).toEqual({ status: 200, body: { status: 'ignored' } });
    expect(await dbh.db.select({ n: sql<number>`count(*)::int` }).from(media)).toEqual(before);
  });
});

describe('Redis down', () => {
  let down: Running;

  beforeAll(async () => {
    down = await startService(t, sns, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  });
  afterAll(async () => {
    await down?.close();
  });

  it('a state change still commits; its notify waits in the outbox and the sweep queues it once', async () => {
    const seeded = await seedMedia(dbh);
    const envelope = etEnvelope(et('COMPLETED', seeded));
    expect(await deliver(down.url, envelope)).toEqual({ status: 200, body: { status: 'processed' } });
    expect((await mediaRow(seeded.mediaId)).status).toBe('complete');
    expect(await notifyJobs(seeded.mediaId)).toEqual([]);

    // A redelivery to a healthy replica is a duplicate: the outbox, not SNS, carries the notify.
    expect(await deliver(svc.url, envelope)).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect(await svc.svc.outbox.sweep(0)).toBe(1);
    expect(await svc.svc.outbox.sweep(0)).toBe(0);
    expect(await notifyJobs(seeded.mediaId)).toEqual([
      { name: JobName.notify, kind: 'media.complete', id: `media.complete-${seeded.mediaId}` },
    ]);
  });

  it('an S3 upload is recorded with enqueued_at null, for the gateway sweep', async () => {
    const { userId } = await seedMedia(dbh, []);
    const mediaId = randomUUID();
    const key = `media/${userId}/${mediaId}/song.mp3`;
    await t.s3Client.send(
      new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: Buffer.from('x'), ContentType: 'audio/mpeg' }),
    );
    const event = {
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: t.bucket }, object: { key } } }],
    };
    expect((await deliver(down.url, sns.sign('Notification', JSON.stringify(event)))).status).toBe(200);
    expect(await mediaRow(mediaId)).toMatchObject({ status: 'uploaded', enqueuedAt: null });
  });
});

describe('health', () => {
  it('answers /healthz, /readyz and /metrics with the delivery counter', async () => {
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${svc.url}/readyz`)).json()).toEqual({
      status: 'ok',
      checks: { postgres: 'ok', redis: 'ok' },
    });
    expect(await (await fetch(`${svc.url}/metrics`)).text()).toMatch(
      /sns_messages_total\{[^}]*type="Notification"[^}]*outcome="processed"/,
    );
  });
});
