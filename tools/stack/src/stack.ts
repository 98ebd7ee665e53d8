import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFirstUser } from '@mp/compose-init/src/first-user';
import { ensurePipeline } from '@mp/compose-init/src/pipeline';
import { createDb } from '@mp/db';
import { createS3Client, ensureBucket } from '@mp/storage';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export interface StackOptions {
  /** Where the embedded S3 keeps objects and where the first user's token is kept. */
  dataDir: string;
  databaseUrl: string;
  redisUrl: string;
  /** First port; the services take base+0 … base+5 (gateway, notifier, sns-ingest, transcoder, dispatch, S3). */
  basePort: number;
  queuePrefix: string;
  bucket: string;
  logLevel: string;
  /** Output of the services: inherit (a person runs it) or ignore (tests). */
  stdio: 'inherit' | 'ignore';
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Transcoder worker processes (default 1); 0 leaves engine jobs Submitted. */
  engineWorkers?: number;
  /** Extra environment for one service, by name (transcoder, sns-ingest, notifier, …); applied last. */
  serviceEnv?: Record<string, Record<string, string>>;
  /** More HTTP subscribers of the pipeline's topic, besides sns-ingest (the engine's direct delivery). */
  extraSubscribers?: string[];
}

export interface Stack {
  urls: { gateway: string; notifier: string; snsIngest: string; transcoder: string; dispatch: string; s3: string };
  user: { id: string; name: string; token: string };
  adminToken: string;
  /** The SNS topic the pipeline notifies and sns-ingest accepts. */
  topicArn: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

const ET_KEY = 'STACKLOCALKEY';
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
export const PIPELINE_NAME = 'media-pipeline';
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:media-pipeline-events`;

/**
 * Starts the whole system on this machine: an embedded S3 (s3rver, on disk), the transcoder API and worker,
 * sns-ingest (fed by the engine's signed direct delivery), the notifier, the dispatch worker and the gateway.
 * Creates the bucket, the pipeline and a first user, idempotently.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  await mkdir(o.dataDir, { recursive: true });
  const secrets = await loadSecrets(o.dataDir);
  const p = (i: number) => o.basePort + i;
  const url = (i: number) => `http://127.0.0.1:${p(i)}`;
  const urls = {
    gateway: url(0),
    notifier: url(1),
    snsIngest: url(2),
    transcoder: url(3),
    dispatch: url(4),
    s3: url(5),
  };
  const children: Array<{ name: string; proc: ChildProcess }> = [];
  const stop = async () => {
    for (const c of children.reverse()) {
      if (c.proc.exitCode !== null) continue;
      c.proc.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => (c.proc.kill('SIGKILL'), r(null)), 15_000);
        c.proc.once('exit', () => (clearTimeout(t), r(null)));
      });
    }
  };

  try {
    const s3 = spawnTs(
      's3',
      'libs/testbed/src/s3rver-main.ts',
      { S3RVER_PORT: String(p(5)), S3RVER_DIR: path.join(o.dataDir, 's3') },
      o.stdio,
    );
    children.push({ name: 's3', proc: s3 });
    await waitForHttp(`${urls.s3}/`, s3, 'S3');
    const s3client = createS3Client({
      endpoint: urls.s3,
      region: REGION,
      forcePathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    await ensureBucket(s3client, o.bucket);
    s3client.destroy();

    const common: Record<string, string> = {
      DATABASE_URL: o.databaseUrl,
      REDIS_URL: o.redisUrl,
      QUEUE_PREFIX: o.queuePrefix,
      LOG_LEVEL: o.logLevel,
      S3_ENDPOINT: urls.s3,
      S3_REGION: REGION,
      S3_BUCKET: o.bucket,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      HOST: '127.0.0.1',
      ...o.env,
    };
    const start = async (name: string, entry: string, port: number, env: Record<string, string> = {}) => {
      const proc = spawnTs(name, entry, { ...common, PORT: String(port), ...env, ...o.serviceEnv?.[name] }, o.stdio);
      children.push({ name, proc });
      return proc;
    };

    // Migrations once, before the services (they also migrate at start, safely; this avoids the race on a new DB).
    await runOnce('migrate', 'libs/db/src/migrate-cli.ts', common, o.stdio);

    const transcoderEnv = {
      ET_CREDENTIALS: `${ET_KEY}:${secrets.etSecret}`,
      ET_REGION: REGION,
      ET_ACCOUNT_ID: ACCOUNT,
      ET_PUBLIC_URL: urls.transcoder,
      ET_DELIVERY_SUBSCRIPTIONS: JSON.stringify({ [TOPIC]: [`${urls.snsIngest}/sns`, ...(o.extraSubscribers ?? [])] }),
    };
    const etApi = await start('transcoder', 'services/transcoder/src/main.ts', p(3), transcoderEnv);
    await waitForHttp(`${urls.transcoder}/healthz`, etApi, 'transcoder');
    for (let i = 0; i < (o.engineWorkers ?? 1); i++) {
      await start('transcoder-worker', 'services/transcoder/src/worker.ts', p(3) + 100 + i, transcoderEnv);
    }
    // The same steps as docker compose's one-shot setup (tools/compose-init).
    await ensurePipeline({
      ET_ENDPOINT: urls.transcoder,
      ET_REGION: REGION,
      ET_ACCOUNT_ID: ACCOUNT,
      ET_ACCESS_KEY_ID: ET_KEY,
      ET_SECRET_ACCESS_KEY: secrets.etSecret,
      ET_PIPELINE_NAME: PIPELINE_NAME,
      ET_TOPIC_ARN: TOPIC,
      S3_BUCKET: o.bucket,
    });

    const ingest = await start('sns-ingest', 'services/sns-ingest/src/main.ts', p(2), {
      SNS_ALLOWED_TOPIC_ARNS: TOPIC,
      SNS_ALLOWED_CERT_HOSTS: `127.0.0.1:${p(3)}`,
      SNS_REQUIRE_HTTPS: 'false',
    });
    await waitForHttp(`${urls.snsIngest}/healthz`, ingest, 'sns-ingest');
    const notifier = await start('notifier', 'services/notifier/src/main.ts', p(1), { CORS_ORIGINS: urls.gateway });
    await waitForHttp(`${urls.notifier}/healthz`, notifier, 'notifier');
    const dispatch = await start('transcode-dispatch', 'services/transcode-dispatch/src/main.ts', p(4), {
      ET_ENDPOINT: urls.transcoder,
      ET_REGION: REGION,
      ET_ACCESS_KEY_ID: ET_KEY,
      ET_SECRET_ACCESS_KEY: secrets.etSecret,
      ET_PIPELINE_NAME: PIPELINE_NAME,
    });
    await waitForHttp(`${urls.dispatch}/healthz`, dispatch, 'transcode-dispatch');
    const gateway = await start('upload-gateway', 'services/upload-gateway/src/main.ts', p(0), {
      ADMIN_TOKEN: secrets.adminToken,
      NOTIFIER_PUBLIC_URL: urls.notifier,
    });
    await waitForHttp(`${urls.gateway}/healthz`, gateway, 'upload-gateway');

    const user = await firstUser(o.databaseUrl, o.dataDir);
    return { urls, user, adminToken: secrets.adminToken, topicArn: TOPIC, env: common, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs a TypeScript entry point of this repository as its own Node process (through tsx). */
export function spawnTs(
  name: string,
  entry: string,
  env: Record<string, string>,
  stdio: 'inherit' | 'ignore',
  nodeArgs: string[] = [],
): ChildProcess {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(repoRoot, entry)], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', stdio, stdio],
  });
  proc.once('exit', (code, signal) => {
    if (code && code !== 0) console.error(`[stack] ${name} exited with code ${code}${signal ? ` (${signal})` : ''}`);
  });
  return proc;
}

async function runOnce(
  name: string,
  entry: string,
  env: Record<string, string>,
  stdio: 'inherit' | 'ignore',
): Promise<void> {
  const proc = spawnTs(name, entry, env, stdio);
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`${name} failed with code ${code}`);
}

/** Waits until url answers below 500, failing early if the process exits first. */
export async function waitForHttp(url: string, proc: ChildProcess, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with code ${proc.exitCode} before it answered`);
    const ok = await fetch(url).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms`);
}

/** Secrets made once per data folder, kept there (mode 600), so a restart keeps the same tokens. */
async function loadSecrets(dataDir: string): Promise<{ adminToken: string; etSecret: string }> {
  const file = path.join(dataDir, 'secrets.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { adminToken: string; etSecret: string };
  } catch {
    const { randomBytes } = await import('node:crypto');
    const s = { adminToken: randomBytes(24).toString('base64url'), etSecret: randomBytes(24).toString('base64url') };
    await writeFile(file, JSON.stringify(s), { mode: 0o600 });
    return s;
  }
}

/** The first user, as compose-init makes it: created once, its token kept in the data folder. */
async function firstUser(databaseUrl: string, dataDir: string): Promise<{ id: string; name: string; token: string }> {
  const handle = createDb(databaseUrl, { max: 1 });
  try {
    return (await ensureFirstUser(handle.db, dataDir, 'admin')).user;
  } finally {
    await handle.close();
  }
}
