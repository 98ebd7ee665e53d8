import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ElasticTranscoderClient,
  ListPipelinesCommand,
  UpdatePipelineNotificationsCommand,
} from '@aws-sdk/client-elastic-transcoder';
import { authenticate } from '@mp/auth';
import { eq } from 'drizzle-orm';
import { createDb, users, type DbHandle } from '@mp/db';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { loadTranscoderConfig, startTranscoder } from '@mp/transcoder';
import { ensureFirstUser } from '../src/first-user';
import { ensurePipeline } from '../src/pipeline';

const KEY = 'COMPOSEINITTEST';
const SECRET = 'compose-init-test-secret';
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:media-pipeline-events';

let t: TestEnv;
let engine: Awaited<ReturnType<typeof startTranscoder>>;
let db: DbHandle;
let dataDir: string;

beforeAll(async () => {
  t = await createTestEnv();
  const config = loadTranscoderConfig({ ...t.env, PORT: '0', HOST: '127.0.0.1', ET_CREDENTIALS: `${KEY}:${SECRET}` });
  engine = await startTranscoder(config, { workers: 0 });
  db = createDb(t.databaseUrl, { max: 2 });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'compose-init-'));
});

afterAll(async () => {
  await engine?.close();
  await db?.close();
  await t?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const settings = () => ({
  ET_ENDPOINT: engine.url,
  ET_REGION: 'us-east-1',
  ET_ACCOUNT_ID: '000000000000',
  ET_ACCESS_KEY_ID: KEY,
  ET_SECRET_ACCESS_KEY: SECRET,
  ET_PIPELINE_NAME: 'media-pipeline',
  ET_TOPIC_ARN: TOPIC,
  S3_BUCKET: t.bucket,
});

function etClient() {
  return new ElasticTranscoderClient({
    endpoint: engine.url,
    region: 'us-east-1',
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
  });
}

describe('ensurePipeline', () => {
  it('creates the named pipeline once, with every notification on the topic and the bucket as input and output', async () => {
    const first = await ensurePipeline(settings());
    const second = await ensurePipeline(settings());
    expect(first.outcome).toBe('created');
    expect(second).toEqual({ id: first.id, outcome: 'unchanged' });

    const client = etClient();
    const { Pipelines } = await client.send(new ListPipelinesCommand({}));
    client.destroy();
    const named = (Pipelines ?? []).filter((p) => p.Name === 'media-pipeline');
    expect(named).toHaveLength(1);
    expect(named[0]).toMatchObject({
      Id: first.id,
      InputBucket: t.bucket,
      OutputBucket: t.bucket,
      Notifications: { Progressing: TOPIC, Completed: TOPIC, Warning: TOPIC, Error: TOPIC },
    });
  });

  it('puts the notifications back when they were changed since', async () => {
    const { id } = await ensurePipeline(settings());
    const client = etClient();
    await client.send(
      new UpdatePipelineNotificationsCommand({
        Id: id,
        Notifications: { Progressing: '', Completed: TOPIC, Warning: '', Error: '' },
      }),
    );

    expect(await ensurePipeline(settings())).toEqual({ id, outcome: 'notifications-updated' });
    const { Pipelines } = await client.send(new ListPipelinesCommand({}));
    client.destroy();
    expect(Pipelines?.find((p) => p.Id === id)?.Notifications).toEqual({
      Progressing: TOPIC,
      Completed: TOPIC,
      Warning: TOPIC,
      Error: TOPIC,
    });
  });
});

describe('ensureFirstUser', () => {
  it('creates the user once and keeps a token that authenticates, readable only by its owner', async () => {
    const first = await ensureFirstUser(db.db, dataDir, 'admin');
    const second = await ensureFirstUser(db.db, dataDir, 'admin');
    expect(first.created).toBe(true);
    expect(second).toEqual({ user: first.user, created: false });

    const authenticated = await authenticate(db.db, first.user.token);
    expect(authenticated?.id).toBe(first.user.id);
    expect(authenticated?.name).toBe('admin');
    const file = path.join(dataDir, 'first-user.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(first.user);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await db.db.select().from(users).where(eq(users.name, 'admin'))).toHaveLength(1);
  });

  it('makes a new user when the saved one is no longer in the database', async () => {
    const before = await ensureFirstUser(db.db, dataDir, 'admin');
    await db.db.delete(users).where(eq(users.id, before.user.id));

    const after = await ensureFirstUser(db.db, dataDir, 'admin');
    expect(after.created).toBe(true);
    expect(after.user.id).not.toBe(before.user.id);
    expect((await authenticate(db.db, after.user.token))?.id).toBe(after.user.id);
    expect(JSON.parse(await readFile(path.join(dataDir, 'first-user.json'), 'utf8'))).toEqual(after.user);
  });
});
