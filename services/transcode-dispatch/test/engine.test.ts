import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  CreatePipelineCommand,
  ElasticTranscoderClient,
  ListJobsByPipelineCommand,
} from '@aws-sdk/client-elastic-transcoder';
import { Queue, UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueName, type NotifyJob, type TranscodeJob } from '@mp/contracts';
import { createUser } from '@mp/auth';
import {
  MediaRepository,
  MediaTombstonesRepository,
  NotifyOutbox,
  TranscodeJobRepository,
  createDb,
  type DbHandle,
} from '@mp/db';
import { createLogger } from '@mp/logging';
import { mediaKey } from '@mp/storage';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { loadTranscoderConfig, startTranscoder } from '@mp/transcoder';
import { Engine } from '../src/engine';
import { handleTranscode, type TranscodeDeps } from '../src/jobs/transcode.job';
import { defaultProfile, type Profile } from '../src/profile';

// The dispatch handler against the real engine API (no engine workers: jobs stay Submitted), real Postgres,
// Redis and S3.
const KEY = 'DISPATCHTEST';
const SECRET = 'dispatch-test-secret';
let t: TestEnv;
let et: Awaited<ReturnType<typeof startTranscoder>>;
let client: ElasticTranscoderClient;
let dbh: DbHandle;
let redis: Redis;
let notify: Queue<NotifyJob>;
let pipelineId: string;
const log = createLogger('test', 'silent');

beforeAll(async () => {
  t = await createTestEnv();
  et = await startTranscoder(
    loadTranscoderConfig({
      ...t.env,
      PORT: '0',
      HOST: '127.0.0.1',
      ET_CREDENTIALS: `${KEY}:${SECRET}`,
      ET_PUBLIC_URL: 'http://127.0.0.1:0',
    }),
    { workers: 0 },
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
    }),
  );
  pipelineId = p.Pipeline!.Id!;
  dbh = createDb(t.databaseUrl, { max: 4 });
  redis = new Redis(t.redisUrl, { maxRetriesPerRequest: null });
  notify = new Queue(QueueName.notify, { connection: redis, prefix: t.queuePrefix });
});
afterAll(async () => {
  client.destroy();
  await et.close();
  await notify.close();
  redis.disconnect();
  await dbh.close();
  await t.cleanup();
});
beforeEach(() => notify.obliterate({ force: true }));

function deps(endpoint = et.url, profile: Profile = defaultProfile): TranscodeDeps {
  const engine = new Engine(
    new ElasticTranscoderClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
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
    profile,
    outbox: new NotifyOutbox(dbh.db, notify, log),
  };
}

async function audioMedia(): Promise<string> {
  return someMedia('song.mp3', 'audio', 'audio/mpeg');
}

async function someMedia(name: string, kind: 'audio' | 'video', contentType: string): Promise<string> {
  const user = await createUser(dbh.db, `u-${randomUUID().slice(0, 8)}`);
  const id = randomUUID();
  const key = mediaKey(user.id, id, name);
  await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: Buffer.from('ID3') }));
  await new MediaRepository(dbh.db).insert({ id, userId: user.id, name, kind, contentType, size: 3, s3Key: key });
  return id;
}

const job = (mediaId: string, attemptsMade = 0) =>
  ({ data: { mediaId }, attemptsMade, opts: { attempts: 8 } }) as unknown as Job<TranscodeJob>;

async function engineJobsFor(mediaId: string) {
  const page = await client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }));
  return (page.Jobs ?? []).filter((j) => j.UserMetadata?.mediaId === mediaId);
}

describe('dispatch to the engine', () => {
  it('creates one job with the seed presets, the media and user ids, and the output rows', async () => {
    const mediaId = await audioMedia();
    const d = deps();
    const engineJobId = await handleTranscode(d, job(mediaId), log);
    const jobs = await engineJobsFor(mediaId);
    expect(jobs.map((j) => j.Id)).toEqual([engineJobId]);
    const media = (await d.media.get(mediaId))!;
    expect(jobs[0]!.Outputs!.map((o) => [o.PresetId, o.Key])).toEqual([
      ['1351620000001-300300', 'song.wav'],
      ['1351620000001-300110', 'song.flac'],
      ['1351620000001-100110', 'song.m4a'],
    ]);
    expect(jobs[0]!.OutputKeyPrefix).toBe(`transcoded/${media.userId}/${mediaId}/`);
    expect(jobs[0]!.UserMetadata).toEqual({ mediaId, userId: media.userId });
    expect(media.status).toBe('processing');
    expect((await d.media.outputsOf(mediaId)).map((o) => [o.format, o.status]).sort()).toEqual([
      ['flac', 'pending'],
      ['m4a', 'pending'],
      ['wav', 'pending'],
    ]);
    expect((await d.jobs.get(mediaId))?.engineJobId).toBe(engineJobId);
  });

  it('gives a video one job with the HLS ladder under an HLSv3 playlist and the MP4, and a row for each', async () => {
    const mediaId = await someMedia('clip.mp4', 'video', 'video/mp4');
    const d = deps();
    await handleTranscode(d, job(mediaId), log);
    const [engineJob] = await engineJobsFor(mediaId);
    expect(engineJob!.Outputs!.map((o) => [o.PresetId, o.Key, o.SegmentDuration ?? null])).toEqual([
      ['1351620000001-200010', 'hls/2m', '4'],
      ['1351620000001-200030', 'hls/1m', '4'],
      ['1351620000001-200040', 'hls/600k', '4'],
      ['1351620000001-000020', 'clip-480p.mp4', null],
    ]);
    expect(engineJob!.Outputs![3]!.ThumbnailPattern).toBe('clip-480p-{count}');
    expect(engineJob!.Playlists).toEqual([
      expect.objectContaining({ Name: 'hls/index', Format: 'HLSv3', OutputKeys: ['hls/2m', 'hls/1m', 'hls/600k'] }),
    ]);
    const rows = await d.media.outputsOf(mediaId);
    expect(rows.map((o) => [o.format, o.contentType, o.s3Key.split('/').slice(3).join('/')]).sort()).toEqual([
      ['hls-1m', 'application/vnd.apple.mpegurl', 'hls/1m'],
      ['hls-2m', 'application/vnd.apple.mpegurl', 'hls/2m'],
      ['hls-600k', 'application/vnd.apple.mpegurl', 'hls/600k'],
      ['mp4-480p', 'video/mp4', 'clip-480p.mp4'],
    ]);
  });

  it('never creates a second engine job when dispatch runs twice at once, or again later', async () => {
    const mediaId = await audioMedia();
    const [a, b] = await Promise.all([
      handleTranscode(deps(), job(mediaId), log),
      handleTranscode(deps(), job(mediaId, 1), log),
    ]);
    const again = await handleTranscode(deps(), job(mediaId, 2), log);
    expect(a).toBe(b);
    expect(again).toBe(a);
    expect(await engineJobsFor(mediaId)).toHaveLength(1);
  });

  it('reconciles an engine job created by an attempt that died before recording it', async () => {
    const mediaId = await audioMedia();
    const d = deps();
    const media = (await d.media.get(mediaId))!;
    // The earlier attempt: intent recorded, the call made, then the process died.
    await d.jobs.recordIntent(mediaId, 'elastic-transcoder', pipelineId);
    await d.jobs.markCalling((await d.jobs.get(mediaId))!.id);
    const earlier = await client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: media.s3Key },
        OutputKeyPrefix: `transcoded/${media.userId}/${mediaId}/`,
        Outputs: [{ Key: 'song.wav', PresetId: '1351620000001-300300' }],
        UserMetadata: { mediaId, userId: media.userId },
      }),
    );
    const id = await handleTranscode(d, job(mediaId, 1), log);
    expect(id).toBe(earlier.Job!.Id);
    expect(await engineJobsFor(mediaId)).toHaveLength(1);
  });

  it('stops retrying when the engine refuses the job, and marks the media failed with the reason', async () => {
    const mediaId = await audioMedia();
    // A preset the engine does not have: no retry can fix that.
    const d = deps(et.url, {
      ...defaultProfile,
      audio: [{ ...defaultProfile.audio[0]!, presetId: '1351620000001-999999' }],
    });
    const err = await handleTranscode(d, job(mediaId), log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    const media = (await d.media.get(mediaId))!;
    expect(media.status).toBe('failed');
    expect(media.statusDetail).toMatch(/preset was not found/);
    expect((await notify.getJobs(['waiting', 'delayed'])).map((j) => j.data)).toEqual([
      { mediaId, kind: 'media.failed' },
    ]);
    expect(await engineJobsFor(mediaId)).toHaveLength(0);
  });

  it('leaves 5xx from the engine to be retried, without failing the media', async () => {
    const down = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServiceException' });
      res.end('{"message":"try later"}');
    });
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const mediaId = await audioMedia();
    const d = deps(`http://127.0.0.1:${(down.address() as { port: number }).port}`);
    const err = await handleTranscode(d, job(mediaId), log).catch((e: unknown) => e);
    down.close();
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(UnrecoverableError);
    expect((await d.media.get(mediaId))!.status).toBe('uploaded');
    expect(await notify.getJobs(['waiting', 'delayed'])).toEqual([]);
  });
});
