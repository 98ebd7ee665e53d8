import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Queue } from 'bullmq';
import {
  JobName,
  QueueName,
  createGatewayClient,
  createUser,
  jobOptions,
  type MediaDto,
  type NotifyKind,
} from '@mp/contracts';
import { createDb, MediaRepository, type DbHandle } from '@mp/db';
import { createLogger } from '@mp/logging';
import { loadNotifierConfig, startNotifier, type RunningNotifier } from '@mp/notifier';
import { createQueue, producerConnection } from '@mp/runtime';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { configSchema as gatewayConfigSchema } from '@mp/upload-gateway/src/config';
import { buildGateway, type Gateway } from '@mp/upload-gateway/src/server';
import { loadDropFolderConfig } from '../src/config';
import { startDropFolder, type DropFolder } from '../src/drop-folder';
import type { FileRecord } from '../src/file-record';

const ADMIN = 'test-admin-token-0123456789';

export interface Folders {
  root: string;
  drop: string;
  out: string;
  failed: string;
  archive: string;
  state: string;
}

/** A gateway and a notifier in this process, sharing one test bed; no engine: tests finish media themselves. */
export interface Stack {
  t: TestEnv;
  gatewayUrl: string;
  notifierUrl: string;
  user(name: string): Promise<{ id: string; token: string }>;
  folders(): Promise<Folders>;
  dropFolder(token: string, f: Folders, env?: Record<string, string>): Promise<DropFolder>;
  mediaOf(token: string): Promise<MediaDto[]>;
  /** What the pipeline does when a transcode succeeds: output object and row, media complete, notify job. */
  complete(mediaId: string, output: Buffer): Promise<void>;
  fail(mediaId: string, detail: string): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const t = await createTestEnv();
  const gw: Gateway = await buildGateway(
    gatewayConfigSchema.parse({ ...t.env, ADMIN_TOKEN: ADMIN, SWEEP_INTERVAL_MS: '60000' }),
  );
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = gw.app.server.address();
  const gatewayUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const notifier: RunningNotifier = await startNotifier(loadNotifierConfig({ ...t.env, PORT: '0', HOST: '127.0.0.1' }));
  const db: DbHandle = createDb(t.databaseUrl, { max: 2 });
  const repo = new MediaRepository(db.db);
  const connection = producerConnection(t.redisUrl);
  const queue: Queue = createQueue(QueueName.notify, connection, t.queuePrefix);
  const running: DropFolder[] = [];
  let n = 0;

  const notify = (mediaId: string, kind: NotifyKind) =>
    queue.add(JobName.notify, { mediaId, kind }, jobOptions(QueueName.notify));

  return {
    t,
    gatewayUrl,
    notifierUrl: notifier.url,
    user: (name) => createUser(gatewayUrl, ADMIN, name),
    async folders() {
      const root = await mkdtemp(path.join(tmpdir(), `drop-folder-${n++}-`));
      const f = {
        root,
        drop: path.join(root, 'drop'),
        out: path.join(root, 'out'),
        failed: path.join(root, 'failed'),
        archive: path.join(root, 'archive'),
        state: path.join(root, 'drop', '.drop-state.json'),
      };
      await mkdir(f.drop);
      return f;
    },
    async dropFolder(token, f, env = {}) {
      const cfg = loadDropFolderConfig({
        DROP_DIR: f.drop,
        OUT_DIR: f.out,
        FAILED_DIR: f.failed,
        GATEWAY_URL: gatewayUrl,
        NOTIFIER_URL: notifier.url,
        API_TOKEN: token,
        STABLE_MS: '300',
        POLL_MS: '50',
        RETRY_BASE_MS: '100',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        ...env,
      });
      const df = await startDropFolder(cfg, createLogger('drop-folder', cfg.LOG_LEVEL));
      running.push(df);
      return df;
    },
    async mediaOf(token) {
      return (await createGatewayClient({ baseUrl: gatewayUrl, token }).list({ limit: 100 })).items;
    },
    async complete(mediaId, output) {
      const m = (await repo.get(mediaId))!;
      const key = `transcoded/${m.userId}/${mediaId}/x.wav`;
      await t.s3Client.send(
        new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: output, ContentType: 'audio/wav' }),
      );
      await repo.recordOutputs([
        { mediaId, format: 'wav', s3Key: key, contentType: 'audio/wav', status: 'complete', size: output.length },
      ]);
      await repo.markFinished(mediaId, 'complete', null);
      await notify(mediaId, 'media.complete');
    },
    async fail(mediaId, detail) {
      await repo.markFinished(mediaId, 'failed', detail);
      await notify(mediaId, 'media.failed');
    },
    async close() {
      await Promise.all(running.map((df) => df.stop(0)));
      await queue.close();
      connection.disconnect();
      await db.close();
      await notifier.close();
      await gw.close();
      await t.cleanup();
    },
  };
}

/** A short mono 16-bit PCM WAV; `seed` makes the bytes (and so the checksum) differ. */
export function wav(samples: number, seed: number): Buffer {
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(Math.sin((i + seed * 7) / (5 + seed)) * 8000), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

export async function readState(f: Folders): Promise<FileRecord[]> {
  try {
    return Object.values((JSON.parse(await readFile(f.state, 'utf8')) as { files: Record<string, FileRecord> }).files);
  } catch {
    return [];
  }
}
