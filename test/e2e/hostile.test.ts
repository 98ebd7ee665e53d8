import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  ElasticTranscoderClient,
  ListPipelinesCommand,
  ReadJobCommand,
  type CreateJobCommandInput,
} from '@aws-sdk/client-elastic-transcoder';
import { io } from 'socket.io-client';
import { SeedPresets, type NotificationDto, type S3Event } from '@mp/contracts';
import { signEnvelope, type SignOptions, type UnsignedEnvelope } from '@mp/sns';
import { createS3Client } from '@mp/storage';
import { generateMedia } from '@mp/testbed/media';
import { createUser, getMedia, listen, target, upload, type Listener, type MediaDto } from './client';

/** A media as stored: its preview link is signed afresh on every read, so it is left out of comparisons. */
const withoutLink = ({ previewUrl: _signed, ...rest }: MediaDto) => rest;

// Bad input as an attacker sends it, to the running system of `npm start`: each request is refused with
// its exact status and code (or, where the API takes it, made harmless), the service still answers
// /healthz, and nothing is left half-written in Postgres or S3.

const t = target();
const local = t.local;
const suite = describe.skipIf(!local);

let sql: postgres.Sql;
let s3: S3Client;
let et: ElasticTranscoderClient;
let pipelineId: string;
let dir: string;
let png: Buffer;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let aliceEars: Listener;
let bobEars: Listener;
/** Alice's photo, resized (two complete outputs), and the notification that told her. */
let photo: MediaDto;
let photoNotice: NotificationDto;

beforeAll(async () => {
  if (!local) return;
  sql = postgres(local.databaseUrl, { max: 2, onnotice: () => {} });
  s3 = createS3Client({ endpoint: local.s3, forcePathStyle: true, ...local.s3Auth });
  et = engineClient(local.transcoder.secretAccessKey);
  const pipelines = await et.send(new ListPipelinesCommand({}));
  pipelineId = pipelines.Pipelines!.find((p) => p.Name === 'media-pipeline')!.Id!;
  await settled();
  dir = await mkdtemp(path.join(tmpdir(), 'e2e-hostile-'));
  png = await readFile(await generateMedia('png', path.join(dir, 'photo.png'), { width: 64, height: 48 }));
  alice = await createUser('alice');
  bob = await createUser('bob');
  aliceEars = await listen(alice.token);
  bobEars = await listen(bob.token);
  ({ media: photo, notice: photoNotice } = await uploadAndWait(alice.token, aliceEars, png, 'photo.png'));
});

afterAll(async () => {
  aliceEars?.close();
  bobEars?.close();
  et?.destroy();
  s3?.destroy();
  await sql?.end();
});

// ---------------------------------------------------------------------------------------------------------
// Helpers: what every case checks afterwards.

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

function engineClient(secretAccessKey: string, accessKeyId = local!.transcoder.accessKeyId) {
  return new ElasticTranscoderClient({
    endpoint: local!.transcoder.url,
    region: local!.transcoder.region,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

/** The error body every service answers: `{ error: { code, message } }` with a human sentence. */
async function expectError(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text();
  const body = (() => {
    try {
      return JSON.parse(text) as { error?: { code?: string; message?: string } };
    } catch {
      return null;
    }
  })();
  expect({ status: res.status, code: body?.error?.code }, text).toEqual({ status, code });
  expect(body!.error!.message).toMatch(/[a-z]{3,}/i);
  return body!.error!.message!;
}

async function expectHealthy(url: string): Promise<void> {
  const res = await fetch(`${url}/healthz`);
  expect(res.status).toBe(200);
}

interface Snapshot {
  rows: Record<string, number>;
  keys: string[];
}

/**
 * What a request could have written: every table's row count and every key in the bucket. (The engine's
 * own subscription handshake with sns-ingest happens at its first delivery, whenever that is: only
 * notifications are counted.)
 */
async function snapshot(): Promise<Snapshot> {
  const [rows] = await sql<Array<Record<string, number>>>`
    select (select count(*)::int from users) as users,
           (select count(*)::int from media) as media,
           (select count(*)::int from outputs) as outputs,
           (select count(*)::int from transcode_jobs) as transcode_jobs,
           (select count(*)::int from notifications) as notifications,
           (select count(*)::int from notifications where read_at is not null) as notifications_read,
           (select count(*)::int from sns_messages where type = 'Notification') as sns_messages,
           (select count(*)::int from media_tombstones) as media_tombstones,
           (select count(*)::int from transcoder.jobs) as engine_jobs`;
  return { rows: { ...rows! }, keys: await bucketKeys() };
}

async function bucketKeys(prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: local!.s3Auth.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/**
 * No row counted by the snapshot came or went (but those `added`, by table), no key was added anywhere in the bucket,
 * and none of this file's users' objects was removed. (Objects of other test files' deleted media may still be
 * purged.)
 */
async function expectNothingWritten(before: Snapshot, added: Record<string, number> = {}): Promise<void> {
  const after = await snapshot();
  const expected = { ...before.rows };
  for (const [table, n] of Object.entries(added)) expected[table] = expected[table]! + n;
  expect(after.rows).toEqual(expected);
  expect(after.keys.filter((k) => !before.keys.includes(k))).toEqual([]);
  const ours = (k: string) =>
    [alice, bob].some((u) => k.startsWith(`media/${u.id}/`) || k.startsWith(`transcoded/${u.id}/`));
  expect(before.keys.filter((k) => ours(k) && !after.keys.includes(k))).toEqual([]);
}

/**
 * Waits (up to a minute) until the work other test files started on the shared stack has ended, so that
 * the counts this file compares move only with its own requests.
 */
async function settled(): Promise<void> {
  await until(async () => {
    const [r] = await sql`
      select (select count(*)::int from media where status not in ('complete', 'failed')) as media,
             (select count(*)::int from transcoder.jobs where status in ('Submitted', 'Progressing')) as jobs,
             (select count(*)::int from transcoder.deliveries where status = 'pending') as deliveries`;
    return r!.media + r!.jobs + r!.deliveries === 0 ? true : null;
  }).catch(() => console.error('hostile: the stack is still busy with earlier work; counts may move'));
}

async function objectExists(key: string): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: local!.s3Auth.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

async function mediaRow(id: string) {
  const [row] =
    await sql`select id, user_id, name, status, status_detail, s3_key, updated_at from media where id = ${id}`;
  return row;
}

/** Uploads, then waits until the pipeline has finished it and its owner was told (nothing left in flight). */
async function uploadAndWait(token: string, ears: Listener, bytes: Buffer, filename: string) {
  const m = await upload(token, bytes, filename);
  const notice = await ears.waitFor((n) => n.mediaId === m.id);
  expect(notice.kind).toBe('media.complete');
  return { media: await getMedia(token, m.id), notice };
}

function multipart(fields: Array<{ name: string; value: Buffer | string; filename?: string }>): FormData {
  const form = new FormData();
  for (const f of fields) {
    if (f.filename !== undefined) form.append(f.name, new Blob([f.value]), f.filename);
    else form.append(f.name, String(f.value));
  }
  return form;
}

// ---------------------------------------------------------------------------------------------------------

suite('upload-gateway', () => {
  describe('who is asking', () => {
    it.each([
      { label: 'no Authorization header', header: undefined },
      { label: 'another scheme (Basic)', header: `Basic ${Buffer.from('alice:hunter2').toString('base64')}` },
      { label: 'a garbled bearer token', header: 'Bearer <script>alert(1)</script>' },
      { label: 'a well-formed token nobody was given', header: `Bearer mpt_${randomBytes(32).toString('base64url')}` },
    ])('$label: 401 UNAUTHENTICATED on list, upload and delete; nothing is written or removed', async ({ header }) => {
      const headers: Record<string, string> = header ? { authorization: header } : {};
      const before = await snapshot();
      await expectError(await fetch(`${t.gateway}/v1/media`, { headers }), 401, 'UNAUTHENTICATED');
      const form = multipart([{ name: 'file', value: png, filename: 'sneaky.png' }]);
      await expectError(
        await fetch(`${t.gateway}/v1/media`, { method: 'POST', headers, body: form }),
        401,
        'UNAUTHENTICATED',
      );
      await expectError(
        await fetch(`${t.gateway}/v1/media/${photo.id}`, { method: 'DELETE', headers }),
        401,
        'UNAUTHENTICATED',
      );
      await expectNothingWritten(before);
      await expectHealthy(t.gateway);
    });

    it('the token of a user who no longer exists opens nothing: gateway 401, notifier REST 401, socket refused', async () => {
      const carol = await createUser('carol');
      await sql`delete from users where id = ${carol.id}`;
      const before = await snapshot();
      await expectError(await fetch(`${t.gateway}/v1/media`, { headers: auth(carol.token) }), 401, 'UNAUTHENTICATED');
      await expectError(
        await fetch(`${t.notifier}/v1/notifications`, { headers: auth(carol.token) }),
        401,
        'UNAUTHORIZED',
      );
      const refused = await connectError(carol.token);
      expect(refused).toEqual({ message: 'unauthorized', code: 'UNAUTHORIZED' });
      await expectNothingWritten(before);
      await expectHealthy(t.gateway);
      await expectHealthy(t.notifier);
    });

    it('a user token on the admin route (POST /v1/users): 401 UNAUTHENTICATED, no user created', async () => {
      const before = await snapshot();
      const res = await fetch(`${t.gateway}/v1/users`, {
        method: 'POST',
        headers: { ...auth(alice.token), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'mallory' }),
      });
      await expectError(res, 401, 'UNAUTHENTICATED');
      await expectNothingWritten(before);
      await expectHealthy(t.gateway);
    });
  });

  describe("another user's media", () => {
    it.each([
      { label: 'GET the media', method: 'GET', route: () => `/v1/media/${photo.id}` },
      {
        label: 'download an output',
        method: 'GET',
        route: () => `/v1/media/${photo.id}/outputs/${photo.outputs[0]!.id}/download`,
      },
      { label: 'DELETE the media', method: 'DELETE', route: () => `/v1/media/${photo.id}` },
    ])('$label as bob: 404 NOT_FOUND "No such media.", and alice\'s media is untouched', async ({ method, route }) => {
      const before = await snapshot();
      const rowBefore = await mediaRow(photo.id);
      const res = await fetch(`${t.gateway}${route()}`, { method, headers: auth(bob.token), redirect: 'manual' });
      expect(await expectError(res, 404, 'NOT_FOUND')).toBe('No such media.');
      await expectNothingWritten(before);
      expect(await mediaRow(photo.id)).toEqual(rowBefore);
      expect(withoutLink(await getMedia(alice.token, photo.id))).toEqual(withoutLink(photo));
      expect(await objectExists(rowBefore!.s3_key as string)).toBe(true);
      const bobs = (await (await fetch(`${t.gateway}/v1/media`, { headers: auth(bob.token) })).json()) as {
        items: MediaDto[];
      };
      expect(bobs.items).toEqual([]);
      await expectHealthy(t.gateway);
    });

    it('ids that are not uuids (SQL, an encoded path up and out, upper case): 404 NOT_FOUND, nothing read or removed', async () => {
      const before = await snapshot();
      for (const [method, route] of [
        ['GET', `/v1/media/${encodeURIComponent("1' OR '1'='1")}`],
        ['DELETE', `/v1/media/${encodeURIComponent('../../etc/passwd')}`],
        ['DELETE', `/v1/media/${photo.id.toUpperCase()}`],
      ] as const) {
        const res = await fetch(`${t.gateway}${route}`, { method, headers: auth(alice.token) });
        expect(await expectError(res, 404, 'NOT_FOUND')).toBe('No such media.');
      }
      const badOutput = `/v1/media/${photo.id}/outputs/${encodeURIComponent('*')}/download`;
      // The media is alice's and exists: what is not found is the output.
      expect(
        await expectError(
          await fetch(`${t.gateway}${badOutput}`, { headers: auth(alice.token), redirect: 'manual' }),
          404,
          'NOT_FOUND',
        ),
      ).toBe('No such output.');
      await expectNothingWritten(before);
      expect(withoutLink(await getMedia(alice.token, photo.id))).toEqual(withoutLink(photo));
      await expectHealthy(t.gateway);
    });
  });

  describe('file names', () => {
    // Each is stored under media/<alice>/<media id>/ with a name that has no separator, control or format
    // character, no leading dot, and at most 200 bytes; nothing lands anywhere else.
    it.each([
      { label: 'a path up and out', filename: '../../etc/passwd.png', expected: 'passwd.png' },
      {
        label: 'a NUL byte and other control characters',
        filename: 'evil\u0000name\u0007.png',
        expected: 'evilname.png',
      },
      {
        label: 'a right-to-left override hiding the extension',
        filename: 'photo\u202Egnp.exe',
        expected: 'photognp.exe',
      },
      {
        label: 'a 600-character name of 2-byte characters',
        filename: `${'é'.repeat(600)}.png`,
        expected: `${'é'.repeat(98)}.png`,
      },
    ])("$label: stored under a sanitized key inside the user's own prefix only", async ({ filename, expected }) => {
      const keysBefore = await bucketKeys();
      const { media } = await uploadAndWait(alice.token, aliceEars, png, filename);
      expect(media.name).toBe(expected);
      const row = await mediaRow(media.id);
      expect(row!.s3_key).toBe(`media/${alice.id}/${media.id}/${expected}`);
      expect(Buffer.byteLength(media.name)).toBeLessThanOrEqual(200);
      expect(media.name).not.toMatch(/[/\\\p{Cc}\p{Cf}]|^\./u);
      expect(await objectExists(row!.s3_key as string)).toBe(true);
      const added = (await bucketKeys()).filter((k) => !keysBefore.includes(k));
      expect(added.length).toBeGreaterThan(1);
      for (const key of added) expect(key).toMatch(new RegExp(`^(media|transcoded)/${alice.id}/${media.id}/[^/]+$`));
      await expectHealthy(t.gateway);
    });
  });

  describe('bodies', () => {
    it.each([
      {
        label: 'a body that is not JSON',
        contentType: 'application/json',
        body: '{"name": alice',
        status: 400,
        code: 'BAD_JSON',
      },
      {
        label: 'a content type it does not take',
        contentType: 'application/xml',
        body: '<user><name>alice</name></user>',
        status: 415,
        code: 'UNSUPPORTED_CONTENT_TYPE',
      },
      {
        label: 'a 2 MiB JSON body',
        contentType: 'application/json',
        body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
    ])(
      'POST /v1/users (admin) with $label: $status $code, no user created',
      async ({ contentType, body, status, code }) => {
        const before = await snapshot();
        const res = await fetch(`${t.gateway}/v1/users`, {
          method: 'POST',
          headers: { ...auth(t.adminToken), 'content-type': contentType },
          body,
        });
        await expectError(res, status, code);
        await expectNothingWritten(before);
        await expectHealthy(t.gateway);
      },
    );

    it('a multipart upload with two file fields: the second is not stored anywhere', async () => {
      const keysBefore = await bucketKeys();
      const mediaBefore = await sql`select count(*)::int as n from media where user_id = ${alice.id}`;
      const other = Buffer.concat([png, Buffer.from('second file')]);
      const form = multipart([
        { name: 'file', value: png, filename: 'first.png' },
        { name: 'file', value: other, filename: 'second.png' },
      ]);
      const res = await fetch(`${t.gateway}/v1/media`, { method: 'POST', headers: auth(alice.token), body: form });
      const text = await res.text();
      expect(res.status, text).toBe(201);
      const created = JSON.parse(text) as MediaDto & { size: number };
      expect(created).toMatchObject({ name: 'first.png', size: png.length });
      await aliceEars.waitFor((n) => n.mediaId === created.id);
      const mediaAfter = await sql`select count(*)::int as n from media where user_id = ${alice.id}`;
      expect(mediaAfter[0]!.n).toBe(mediaBefore[0]!.n + 1);
      const added = (await bucketKeys()).filter((k) => !keysBefore.includes(k));
      for (const key of added) expect(key).toMatch(new RegExp(`^(media|transcoded)/${alice.id}/${created.id}/`));
      expect(added.filter((k) => k.includes('second'))).toEqual([]);
      await expectHealthy(t.gateway);
    });
  });

  describe('queries and routes', () => {
    it('query parameters of the wrong type or out of range (limit=abc, limit=100000, a 201-character cursor, redirect=maybe): 400 VALIDATION', async () => {
      for (const route of [
        '/v1/media?limit=abc',
        '/v1/media?limit=100000',
        `/v1/media?cursor=${'A'.repeat(201)}`,
        `/v1/media/${photo.id}/outputs/${photo.outputs[0]!.id}/download?redirect=maybe`,
      ]) {
        const res = await fetch(`${t.gateway}${route}`, { headers: auth(alice.token), redirect: 'manual' });
        await expectError(res, 400, 'VALIDATION');
      }
      await expectHealthy(t.gateway);
    });

    it('an unknown route, and a method no route takes (PUT, PATCH): 404 NOT_FOUND, nothing written', async () => {
      const before = await snapshot();
      for (const [method, route] of [
        ['GET', '/v1/admin/users'],
        ['PUT', '/v1/media'],
        ['PATCH', `/v1/media/${photo.id}`],
      ] as const) {
        const res = await fetch(`${t.gateway}${route}`, {
          method,
          headers: { ...auth(alice.token), 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : JSON.stringify({ name: 'x', status: 'complete' }),
        });
        expect(await expectError(res, 404, 'NOT_FOUND')).toBe(`No route for ${method} ${route}.`);
      }
      await expectNothingWritten(before);
      expect(withoutLink(await getMedia(alice.token, photo.id))).toEqual(withoutLink(photo));
      await expectHealthy(t.gateway);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------

const S3_TEST_EVENT = JSON.stringify({
  Service: 'Amazon S3',
  Event: 's3:TestEvent',
  Time: new Date().toISOString(),
  Bucket: 'media',
});

function unsigned(over: Partial<UnsignedEnvelope> = {}): UnsignedEnvelope {
  return {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: local!.topicArn,
    Subject: 'Amazon S3 Notification',
    Message: S3_TEST_EVENT,
    Timestamp: new Date().toISOString(),
    UnsubscribeURL: `${local!.signer.certUrl}?unsubscribe`,
    ...over,
  };
}

function signed(over: Partial<UnsignedEnvelope> = {}, opts: Partial<SignOptions> = {}) {
  return signEnvelope(unsigned(over), {
    privateKeyPem: local!.signer.privateKeyPem,
    signingCertUrl: local!.signer.certUrl,
    ...opts,
  });
}

/** POST /sns as SNS sends it: JSON in a text/plain body, with the x-amz-sns-* headers. */
async function deliver(body: string | object, headers: Record<string, string> = {}): Promise<Response> {
  const envelope = typeof body === 'string' ? null : (body as { Type?: string; TopicArn?: string });
  return fetch(`${local!.snsIngest}/sns`, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      ...(envelope?.Type ? { 'x-amz-sns-message-type': envelope.Type } : {}),
      ...(envelope?.TopicArn ? { 'x-amz-sns-topic-arn': envelope.TopicArn } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function seen(messageId: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from sns_messages where message_id = ${messageId}`;
  return row!.n as number;
}

function etMessage(state: 'COMPLETED' | 'ERROR', mediaId: string, userId: string) {
  return JSON.stringify({
    state,
    version: '2012-09-25',
    jobId: '1700000000000-abcdef',
    pipelineId,
    input: { key: `media/${userId}/${mediaId}/x.mp3` },
    outputKeyPrefix: `transcoded/${userId}/${mediaId}/`,
    outputs: [
      {
        id: '1',
        presetId: SeedPresets.wav,
        key: 'x.wav',
        status: state === 'ERROR' ? 'Error' : 'Complete',
        duration: 1,
      },
    ],
    userMetadata: { mediaId, userId },
    ...(state === 'ERROR' ? { errorCode: 4000, messageDetails: 'forged' } : {}),
  });
}

suite('sns-ingest', () => {
  const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const tampered = () => ({ ...signed(), Message: JSON.stringify({ Records: [] }) });

  it.each<{ label: string; make: () => string | object; status: number; code: string }>([
    {
      label: 'a body that is not JSON',
      make: () => 'Type=Notification&Message=hi',
      status: 400,
      code: 'SNS_MALFORMED',
    },
    {
      label: 'an envelope without its Signature',
      make: () => ({ ...signed(), Signature: undefined }),
      status: 400,
      code: 'SNS_MALFORMED',
    },
    {
      label: 'an unknown Type',
      make: () => ({ ...signed(), Type: 'SubscriptionDeletion' }),
      status: 400,
      code: 'SNS_MALFORMED',
    },
    {
      label: 'SignatureVersion 3',
      make: () => ({ ...signed(), SignatureVersion: '3' }),
      status: 400,
      code: 'SNS_BAD_SIGNATURE_VERSION',
    },
    {
      label: 'a SigningCertURL on a host that only looks like SNS',
      make: () => signed({}, { signingCertUrl: 'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem' }),
      status: 403,
      code: 'SNS_CERT_HOST',
    },
    { label: 'a Message changed after signing', make: tampered, status: 403, code: 'SNS_BAD_SIGNATURE' },
    {
      label: 'a signature by another key, naming the trusted certificate',
      make: () => signed({}, { privateKeyPem: forger }),
      status: 403,
      code: 'SNS_BAD_SIGNATURE',
    },
    {
      label: 'a validly signed message two hours old',
      make: () => signed({ Timestamp: new Date(Date.now() - 7_200_000).toISOString() }),
      status: 403,
      code: 'SNS_EXPIRED',
    },
  ])('$label: $status $code, and nothing is recorded', async ({ make, status, code }) => {
    const body = make();
    const before = await snapshot();
    await expectError(await deliver(body), status, code);
    await expectNothingWritten(before);
    if (typeof body === 'object' && 'MessageId' in body) expect(await seen(body.MessageId as string)).toBe(0);
    await expectHealthy(local!.snsIngest);
  });

  it('a valid S3 event delivered twice is processed once: one media, one recorded message, one notification', async () => {
    const mediaId = randomUUID();
    const key = `media/${alice.id}/${mediaId}/replayed.png`;
    await s3.send(
      new PutObjectCommand({ Bucket: local!.s3Auth.bucket, Key: key, Body: png, ContentType: 'image/png' }),
    );
    const event: S3Event = {
      Records: [
        {
          eventVersion: '2.1',
          eventTime: new Date().toISOString(),
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: local!.s3Auth.bucket, arn: `arn:aws:s3:::${local!.s3Auth.bucket}` },
            object: { key, size: png.length, eTag: 'etag', sequencer: '01' },
          },
        },
      ],
    };
    const envelope = signed({ Message: JSON.stringify(event) });
    const first = await deliver(envelope);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'processed' });
    const again = await deliver(envelope);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate' });

    await aliceEars.waitFor((n) => n.mediaId === mediaId);
    await new Promise((r) => setTimeout(r, 500));
    expect(await seen(envelope.MessageId)).toBe(1);
    expect(await sql`select id, source from media where s3_key = ${key}`).toEqual([
      { id: mediaId, source: 's3-event' },
    ]);
    const [n] = await sql`select count(*)::int as n from notifications where media_id = ${mediaId}`;
    expect(n!.n).toBe(1);
    await expectHealthy(local!.snsIngest);
  });

  it('an engine COMPLETED for a media that does not exist: 200 ignored, no media, output, notification or tombstone made', async () => {
    const mediaId = randomUUID();
    const before = await snapshot();
    const envelope = signed({
      Subject: 'Amazon Elastic Transcoder has finished transcoding job',
      Message: etMessage('COMPLETED', mediaId, alice.id),
    });
    const res = await deliver(envelope);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ignored' });
    // The delivery itself is recorded (a redelivery is answered as a duplicate), and nothing else.
    await expectNothingWritten(before, { sns_messages: 1 });
    expect(await mediaRow(mediaId)).toBeUndefined();
    await expectHealthy(local!.snsIngest);
  });

  it("an engine ERROR naming alice's media with bob as its owner: 200 ignored, alice's media and outputs unchanged, nobody told", async () => {
    const before = await snapshot();
    const rowBefore = await mediaRow(photo.id);
    const outputsBefore =
      await sql`select id, status, status_detail, size from outputs where media_id = ${photo.id} order by id`;
    const envelope = signed({
      Subject: 'Amazon Elastic Transcoder has encountered an error',
      Message: etMessage('ERROR', photo.id, bob.id),
    });
    const res = await deliver(envelope);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ignored' });
    await new Promise((r) => setTimeout(r, 500));
    await expectNothingWritten(before, { sns_messages: 1 });
    expect(await mediaRow(photo.id)).toEqual(rowBefore);
    expect(
      await sql`select id, status, status_detail, size from outputs where media_id = ${photo.id} order by id`,
    ).toEqual(outputsBefore);
    expect(aliceEars.notifications.filter((n) => n.mediaId === photo.id)).toHaveLength(1);
    expect(bobEars.notifications).toEqual([]);
    await expectHealthy(local!.snsIngest);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** A socket.io handshake that is expected to fail: its connect_error message and data.code. */
function connectError(token: unknown): Promise<{ message: string; code: string | undefined }> {
  const socket = io(t.notifier, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (socket.close(), reject(new Error('no connect_error in time'))), 10_000);
    socket.once('connect', () => (clearTimeout(timer), socket.close(), reject(new Error('the socket connected'))));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      clearTimeout(timer);
      socket.close();
      resolve({ message: err.message, code: err.data?.code });
    });
  });
}

suite('notifier', () => {
  it('no token, or one that is not a token: the socket gets connect_error "unauthorized" (UNAUTHORIZED), REST 401 UNAUTHORIZED', async () => {
    const before = await snapshot();
    for (const token of [
      undefined,
      '',
      'Bearer; drop table users',
      { $ne: null },
      `mpt_${randomBytes(32).toString('base64url')}`,
    ]) {
      expect(await connectError(token)).toEqual({ message: 'unauthorized', code: 'UNAUTHORIZED' });
    }
    await expectError(await fetch(`${t.notifier}/v1/notifications`), 401, 'UNAUTHORIZED');
    const basic = { authorization: `Basic ${Buffer.from(`${alice.id}:x`).toString('base64')}` };
    await expectError(
      await fetch(`${t.notifier}/v1/notifications?unread=true`, { headers: basic }),
      401,
      'UNAUTHORIZED',
    );
    await expectError(await fetch(`${t.notifier}/v1/notifications/read-all`, { method: 'POST' }), 401, 'UNAUTHORIZED');
    await expectNothingWritten(before);
    await expectHealthy(t.notifier);
  });

  it("bob marks alice's notification read, over REST and over his socket: 404 NOT_FOUND, and it stays unread", async () => {
    const before = await snapshot();
    const res = await fetch(`${t.notifier}/v1/notifications/${photoNotice.id}/read`, {
      method: 'POST',
      headers: auth(bob.token),
    });
    await expectError(res, 404, 'NOT_FOUND');
    const ack = await bobEars.socket.timeout(5000).emitWithAck('notification:read', { id: photoNotice.id });
    expect(ack).toMatchObject({ error: { code: 'NOT_FOUND' } });
    await expectNothingWritten(before);
    const [row] = await sql`select read_at from notifications where id = ${photoNotice.id}`;
    expect(row!.read_at).toBeNull();
    await expectHealthy(t.notifier);
  });

  it('notification ids that are not ids (a uuid, text, zero, negative, past 2^53): 404 NOT_FOUND, nothing marked read', async () => {
    const before = await snapshot();
    for (const id of [randomUUID(), 'abc', '0', '-1', '1e3', '99999999999999999999']) {
      const res = await fetch(`${t.notifier}/v1/notifications/${encodeURIComponent(id)}/read`, {
        method: 'POST',
        headers: auth(alice.token),
      });
      await expectError(res, 404, 'NOT_FOUND');
    }
    await expectNothingWritten(before);
    await expectHealthy(t.notifier);
  });

  it('a socket that sends unknown events, garbage and then a huge payload is cut off; the user still gets their own events', async () => {
    const rogue = await listen(alice.token);
    const closed = new Promise<string>((r) => rogue.socket.once('disconnect', (reason) => r(reason)));
    for (const event of ['admin', 'media:delete', '__proto__', 'notification'])
      rogue.socket.emit(event, { id: photoNotice.id, userId: bob.id });
    for (const payload of [undefined, 'x', { id: 'abc' }, { id: { $gt: 0 } }, [photoNotice.id]]) {
      const ack = await rogue.socket.timeout(5000).emitWithAck('notification:read', payload);
      expect(ack).toMatchObject({ error: { code: 'VALIDATION' } });
    }
    rogue.socket.emit('notification:read', { id: 'x'.repeat(64 * 1024) });
    expect(await closed).toBe('transport close');
    const [row] = await sql`select read_at from notifications where id = ${photoNotice.id}`;
    expect(row!.read_at).toBeNull();

    await expectHealthy(t.notifier);
    const { media } = await uploadAndWait(alice.token, aliceEars, png, 'after-the-flood.png');
    expect(aliceEars.notifications.some((n) => n.mediaId === media.id)).toBe(true);
    expect(bobEars.notifications).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------

interface EtFailure {
  type: string;
  status: number | undefined;
  message: string;
}

async function etFailure(p: Promise<unknown>): Promise<EtFailure> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { type: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('the engine accepted the request');
}

function job(over: Partial<CreateJobCommandInput> = {}): CreateJobCommandInput {
  return {
    PipelineId: pipelineId,
    Input: { Key: `media/${alice.id}/${randomUUID()}/hostile.mp3` },
    OutputKeyPrefix: `hostile/${randomUUID()}/`,
    Outputs: [{ Key: 'out.wav', PresetId: SeedPresets.wav }],
    ...over,
  };
}

suite('transcoder (Elastic Transcoder API)', () => {
  it('an unsigned CreateJob (no Authorization, a garbled one, an unknown key id): 403 AccessDeniedException, no job', async () => {
    const before = await snapshot();
    const stamp = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    for (const [authorization, message] of [
      [undefined, 'Missing Authentication Token'],
      ['AWS4-HMAC-SHA256 nonsense', 'Authorization header is not a valid AWS4-HMAC-SHA256 signature'],
      [
        `AWS4-HMAC-SHA256 Credential=AKIDNOBODY/${stamp.slice(0, 8)}/us-east-1/elastictranscoder/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
        'The security token included in the request is invalid',
      ],
    ] as const) {
      const res = await fetch(`${local!.transcoder.url}/2012-09-25/jobs`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-amz-date': stamp,
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify(job()),
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
      expect(await res.json()).toEqual({ message });
    }
    await expectNothingWritten(before);
    await expectHealthy(local!.transcoder.url);
  });

  it('a request signed with the right key id and a wrong secret: 403 AccessDeniedException, no job', async () => {
    const before = await snapshot();
    const forged = engineClient('not-the-secret');
    expect(await etFailure(forged.send(new CreateJobCommand(job())))).toEqual({
      type: 'AccessDeniedException',
      status: 403,
      message: 'The request signature we calculated does not match the signature you provided',
    });
    forged.destroy();
    await expectNothingWritten(before);
    await expectHealthy(local!.transcoder.url);
  });

  it('ReadJob of a job id that does not exist: 404 ResourceNotFoundException', async () => {
    expect(await etFailure(et.send(new ReadJobCommand({ Id: '1000000000000-zzzzzz' })))).toEqual({
      type: 'ResourceNotFoundException',
      status: 404,
      message: 'The specified job was not found: account=000000000000, jobId=1000000000000-zzzzzz.',
    });
    await expectHealthy(local!.transcoder.url);
  });

  it.each<{ label: string; make: () => CreateJobCommandInput; type: string; status: number; message: RegExp }>([
    {
      label: 'a malformed pipeline id',
      make: () => job({ PipelineId: "1' or '1'='1" }),
      type: 'ValidationException',
      status: 400,
      message: /at 'pipelineId' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    },
    {
      label: 'an unknown preset id',
      make: () => job({ Outputs: [{ Key: 'out.wav', PresetId: '1351620000001-999999' }] }),
      type: 'ResourceNotFoundException',
      status: 404,
      message: /^The specified preset was not found: account=000000000000, presetId=1351620000001-999999\.$/,
    },
    {
      label: '31 outputs',
      make: () =>
        job({ Outputs: Array.from({ length: 31 }, (_, i) => ({ Key: `out-${i}.wav`, PresetId: SeedPresets.wav })) }),
      type: 'ValidationException',
      status: 400,
      message: /at 'outputs' failed to satisfy constraint: Member must have length less than or equal to 30$/,
    },
    {
      label: 'two outputs with one key',
      make: () =>
        job({
          Outputs: [
            { Key: 'same.wav', PresetId: SeedPresets.wav },
            { Key: 'same.wav', PresetId: SeedPresets.flac },
          ],
        }),
      type: 'ValidationException',
      status: 400,
      message: /unique keys: the key 'same\.wav' appears more than once \(outputs\.2\.member\.key\)/,
    },
    {
      label: 'an Input without its Key',
      make: () => job({ Input: { Container: 'auto' } }),
      type: 'ValidationException',
      status: 400,
      message: /at 'input\.key' failed to satisfy constraint: Member must not be null$/,
    },
  ])('CreateJob with $label: $status $type, no job recorded', async ({ make, type, status, message }) => {
    const before = await snapshot();
    const failure = await etFailure(et.send(new CreateJobCommand(make())));
    expect({ type: failure.type, status: failure.status }).toEqual({ type, status });
    expect(failure.message).toMatch(message);
    await expectNothingWritten(before);
    await expectHealthy(local!.transcoder.url);
  });

  it('a correctly signed CreateJob whose body is not JSON: 400 ValidationException, no job', async () => {
    const before = await snapshot();
    const garbler = engineClient(local!.transcoder.secretAccessKey);
    // Replaces the body after serialization, before signing: the signature is valid, the JSON is not.
    garbler.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: unknown; headers: Record<string, string> };
        request.body = '{"PipelineId": "' + pipelineId + '", Input: ';
        request.headers['content-length'] = String(Buffer.byteLength(request.body as string));
        return next(args);
      },
      { step: 'build', priority: 'low' },
    );
    const failure = await etFailure(garbler.send(new CreateJobCommand(job())));
    garbler.destroy();
    expect({ type: failure.type, status: failure.status }).toEqual({ type: 'ValidationException', status: 400 });
    expect(failure.message).toMatch(/^The request body is not valid JSON/);
    await expectNothingWritten(before);
    await expectHealthy(local!.transcoder.url);
  });

  it('a job whose input does not exist ends Error 3001 with its StatusDetail; no output is written and no media is touched', async () => {
    const mediaId = randomUUID();
    const before = await snapshot();
    const spec = job({
      Input: { Key: `media/${alice.id}/${mediaId}/never-uploaded.mp3` },
      UserMetadata: { mediaId, userId: alice.id },
    });
    const { Job: submitted } = await et.send(new CreateJobCommand(spec));
    const id = submitted!.Id!;
    const ended = await until(async () => {
      const { Job: j } = await et.send(new ReadJobCommand({ Id: id }));
      return j!.Status === 'Error' ? j! : null;
    });
    expect(ended.Outputs).toHaveLength(1);
    expect(ended.Outputs![0]!).toMatchObject({ Status: 'Error' });
    expect(ended.Outputs![0]!.StatusDetail).toMatch(
      new RegExp(
        `^3001 [0-9a-f-]{36}: The specified object does not exist in the specified S3 bucket: bucket=media, key=media/${alice.id}/${mediaId}/never-uploaded\\.mp3\\.$`,
      ),
    );
    // Its notifications reach sns-ingest, which records them and, the media being unknown, changes nothing.
    const delivered = await until(async () => {
      const [r] = await sql`
        select (select count(*)::int from transcoder.messages where job_id = ${id}) as messages,
               (select count(*)::int from transcoder.deliveries d join transcoder.messages m on m.id = d.message_id
                 where m.job_id = ${id} and d.status = 'delivered') as delivered,
               (select count(*)::int from transcoder.messages where job_id = ${id} and state = 'ERROR') as errors`;
      return r!.errors > 0 && r!.delivered === r!.messages ? (r!.messages as number) : null;
    });
    expect(await bucketKeys(spec.OutputKeyPrefix)).toEqual([]);
    expect(await mediaRow(mediaId)).toBeUndefined();
    const recorded = await sql`
      select s.message_id from sns_messages s join transcoder.messages m on m.id::text = s.message_id where m.job_id = ${id}`;
    expect(recorded).toHaveLength(delivered);
    await expectNothingWritten(before, { engine_jobs: 1, sns_messages: delivered });
    await expectHealthy(local!.transcoder.url);
    await expectHealthy(local!.snsIngest);
  });
});

/** Polls until fn gives a value (not null), for at most timeoutMs. */
async function until<T>(fn: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 250));
  }
}
