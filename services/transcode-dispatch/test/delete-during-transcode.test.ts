import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  CreatePipelineCommand,
  ElasticTranscoderClient,
  ReadJobCommand,
  UpdatePipelineStatusCommand,
} from '@aws-sdk/client-elastic-transcoder';
import { createUser } from '@mp/auth';
import { eq } from 'drizzle-orm';
import { createDb, media, mediaTombstones, notifyOutbox, outputs, transcodeJobs, type DbHandle } from '@mp/db';
import {
  buildSnsIngest,
  configSchema as ingestConfigSchema,
  migrateSnsIngest,
  type SnsIngest,
} from '@mp/sns-ingest/src/index';
import { createTestEnv, eventually, freePort, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { loadTranscoderConfig, startTranscoder } from '@mp/transcoder';
import { configSchema as gatewayConfigSchema } from '@mp/upload-gateway/src/config';
import { buildGateway, type Gateway } from '@mp/upload-gateway/src/server';
import { configSchema } from '../src/config';
import { buildDispatch, type Dispatch } from '../src/server';

// The whole chain in this process: gateway → dispatch → the engine (API and an ffmpeg worker) → signed direct
// delivery → sns-ingest, on real Postgres, Redis and S3. A media is deleted while its engine job runs, or
// before it starts, and nothing of it may remain once the engine is done.
const KEY = 'DELETETESTKEY';
const SECRET = 'delete-test-secret';
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:media-pipeline-events';
const ADMIN = 'test-admin-token-0123456789';

let t: TestEnv;
let et: Awaited<ReturnType<typeof startTranscoder>>;
let client: ElasticTranscoderClient;
let ingest: SnsIngest;
let dispatch: Dispatch;
let gateway: Gateway;
let gatewayUrl: string;
let dbh: DbHandle;
let pipelineId: string;
let dir: string;

beforeAll(async () => {
  t = await createTestEnv();
  await migrateSnsIngest(t.databaseUrl);
  dir = await mkdtemp(path.join(tmpdir(), 'delete-test-'));
  const [etPort, ingestPort] = [await freePort(), await freePort()];
  const etUrl = `http://127.0.0.1:${etPort}`;
  et = await startTranscoder(
    loadTranscoderConfig({
      ...t.env,
      PORT: String(etPort),
      HOST: '127.0.0.1',
      ET_CREDENTIALS: `${KEY}:${SECRET}`,
      ET_PUBLIC_URL: etUrl,
      ET_DELIVERY_SUBSCRIPTIONS: JSON.stringify({ [TOPIC]: [`http://127.0.0.1:${ingestPort}/sns`] }),
      ET_PROGRESS_INTERVAL_MS: '200',
      ET_FAN_OUT_MIN_SECONDS: 'off',
      ET_TMP_DIR: path.join(dir, 'engine'),
    }),
    { workers: 1 },
  );
  client = new ElasticTranscoderClient({
    endpoint: et.url,
    region: 'us-east-1',
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
  });
  const p = await client.send(
    new CreatePipelineCommand({
      Name: 'media-pipeline',
      InputBucket: t.bucket,
      OutputBucket: t.bucket,
      Role: 'arn:aws:iam::000000000000:role/r',
      Notifications: { Progressing: TOPIC, Completed: TOPIC, Warning: TOPIC, Error: TOPIC },
    }),
  );
  pipelineId = p.Pipeline!.Id!;

  ingest = await buildSnsIngest(
    ingestConfigSchema.parse({
      ...t.env,
      SNS_ALLOWED_TOPIC_ARNS: TOPIC,
      SNS_ALLOWED_CERT_HOSTS: `127.0.0.1:${etPort}`,
      SNS_REQUIRE_HTTPS: 'false',
    }),
  );
  await ingest.app.listen({ port: ingestPort, host: '127.0.0.1' });
  dispatch = await buildDispatch(
    configSchema.parse({
      ...t.env,
      ET_ENDPOINT: et.url,
      ET_ACCESS_KEY_ID: KEY,
      ET_SECRET_ACCESS_KEY: SECRET,
      PURGE_SWEEP_INTERVAL_MS: '200',
      PURGE_RETRY_MS: '500',
      // Forgotten as soon as purged, so that not even the tombstone remains.
      PURGE_RETENTION_MS: '0',
    }),
  );
  gateway = await buildGateway(gatewayConfigSchema.parse({ ...t.env, ADMIN_TOKEN: ADMIN, SWEEP_INTERVAL_MS: '60000' }));
  gatewayUrl = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  dbh = createDb(t.databaseUrl, { max: 2 });
});

afterAll(async () => {
  await gateway?.close();
  await dispatch?.close();
  await et?.close();
  await ingest?.close();
  client?.destroy();
  await dbh?.close();
  await t?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function uploadVideo(token: string, seconds: number): Promise<string> {
  const file = await generateMedia('mp4', path.join(dir, `clip-${seconds}.mp4`), { seconds, width: 1280, height: 720 });
  const form = new FormData();
  form.append('file', new Blob([await readFile(file)], { type: 'video/mp4' }), 'clip.mp4');
  const res = await fetch(`${gatewayUrl}/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function engineJobOf(mediaId: string): Promise<string> {
  return eventually(async () => {
    const [row] = await dbh.db.select().from(transcodeJobs).where(eq(transcodeJobs.mediaId, mediaId));
    return row?.engineJobId ?? null;
  });
}

const engineJob = async (id: string) => (await client.send(new ReadJobCommand({ Id: id }))).Job!;

async function objectsUnder(userId: string, mediaId: string): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of [`media/${userId}/${mediaId}/`, `transcoded/${userId}/${mediaId}/`]) {
    const page = await t.s3Client.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: prefix }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
  }
  return keys;
}

/** Every row that names the media: its own, its outputs, its engine job, its outbox entries, its tombstone. */
async function rowsOf(mediaId: string) {
  const count = async (q: Promise<unknown[]>) => (await q).length;
  return {
    media: await count(dbh.db.select().from(media).where(eq(media.id, mediaId))),
    outputs: await count(dbh.db.select().from(outputs).where(eq(outputs.mediaId, mediaId))),
    transcodeJobs: await count(dbh.db.select().from(transcodeJobs).where(eq(transcodeJobs.mediaId, mediaId))),
    notifyOutbox: await count(dbh.db.select().from(notifyOutbox).where(eq(notifyOutbox.mediaId, mediaId))),
    tombstones: await count(dbh.db.select().from(mediaTombstones).where(eq(mediaTombstones.mediaId, mediaId))),
  };
}

const none = { media: 0, outputs: 0, transcodeJobs: 0, notifyOutbox: 0, tombstones: 0 };

describe('deleting a media while the pipeline works on it', () => {
  // The engine writes a whole HLS ladder and an MP4 of an 8 s video: the test may take as long as its waits.
  it('leaves no object and no row once the engine job that could not be cancelled has written its outputs', async () => {
    const user = await createUser(dbh.db, 'deleter');
    const mediaId = await uploadVideo(user.token, 8);
    const jobId = await engineJobOf(mediaId);
    await eventually(async () => (await engineJob(jobId)).Status === 'Progressing', {
      timeoutMs: 30_000,
      intervalMs: 50,
    });

    const res = await fetch(`${gatewayUrl}/v1/media/${mediaId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(res.status).toBe(204);
    // Deleted mid-transcode: too late for CancelJob, the engine goes on.
    expect((await engineJob(jobId)).Status).toBe('Progressing');

    const done = await eventually(
      async () => {
        const job = await engineJob(jobId);
        return job.Status === 'Complete' ? job : null;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    // It did write its outputs (the HLS ladder with its playlist, the MP4 and its thumbnails) into the media's
    // prefix, after the delete...
    expect(done.Outputs!.map((o) => o.Status)).toEqual(['Complete', 'Complete', 'Complete', 'Complete']);
    expect(done.Playlists!.map((p) => p.Status)).toEqual(['Complete']);
    expect(done.OutputKeyPrefix).toBe(`transcoded/${user.id}/${mediaId}/`);
    // ...and none of them, nor anything else of the media, remains; nor does any row.
    await eventually(
      async () => (await objectsUnder(user.id, mediaId)).length === 0 && (await rowsOf(mediaId)).tombstones === 0,
      {
        timeoutMs: 20_000,
      },
    );
    expect(await objectsUnder(user.id, mediaId)).toEqual([]);
    expect(await rowsOf(mediaId)).toEqual(none);
  }, 180_000);

  it('cancels an engine job that has not started, and leaves nothing', async () => {
    const user = await createUser(dbh.db, 'early-deleter');
    // A paused pipeline keeps its jobs Submitted.
    await client.send(new UpdatePipelineStatusCommand({ Id: pipelineId, Status: 'Paused' }));
    try {
      const mediaId = await uploadVideo(user.token, 1);
      const jobId = await engineJobOf(mediaId);
      expect((await engineJob(jobId)).Status).toBe('Submitted');
      const res = await fetch(`${gatewayUrl}/v1/media/${mediaId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(res.status).toBe(204);
      await eventually(async () => (await engineJob(jobId)).Status === 'Canceled');
      await eventually(async () => (await rowsOf(mediaId)).tombstones === 0);
      expect(await objectsUnder(user.id, mediaId)).toEqual([]);
      expect(await rowsOf(mediaId)).toEqual(none);
    } finally {
      await client.send(new UpdatePipelineStatusCommand({ Id: pipelineId, Status: 'Active' }));
    }
  });
});
