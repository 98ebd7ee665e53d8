import { randomUUID } from 'node:crypto';
import { io as connectClient, type Socket } from 'socket.io-client';
import type { Queue } from 'bullmq';
import { createUser } from '@mp/auth';
import { JobName, QueueName, jobOptions, type MediaStatus, type NotificationDto, type NotifyKind } from '@mp/contracts';
import { createDb, MediaRepository, type DbHandle } from '@mp/db';
import { createQueue, producerConnection } from '@mp/runtime';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { loadNotifierConfig, type NotifierConfig } from '../src/config';

export interface Bed {
  t: TestEnv;
  db: DbHandle;
  queue: Queue;
  config(overrides?: Record<string, string>): NotifierConfig;
  user(name: string): Promise<{ id: string; token: string }>;
  media(
    userId: string,
    name: string,
    opts?: { status?: MediaStatus; statusDetail?: string; progress?: number },
  ): Promise<string>;
  notify(mediaId: string, kind: NotifyKind, jobId?: string): Promise<void>;
  close(): Promise<void>;
}

export async function createBed(): Promise<Bed> {
  const t = await createTestEnv();
  const db = createDb(t.databaseUrl, { max: 4 });
  const connection = producerConnection(t.redisUrl);
  const queue = createQueue(QueueName.notify, connection, t.queuePrefix);
  return {
    t,
    db,
    queue,
    config: (overrides = {}) => loadNotifierConfig({ ...t.env, PORT: '0', HOST: '127.0.0.1', ...overrides }),
    user: (name) => createUser(db.db, name),
    async media(userId, name, opts = {}) {
      const id = randomUUID();
      await new MediaRepository(db.db).insert({
        id,
        userId,
        name,
        kind: 'audio',
        contentType: 'audio/mpeg',
        size: 1234,
        s3Key: `media/${userId}/${id}/${name}`,
        status: opts.status ?? 'complete',
        statusDetail: opts.statusDetail ?? null,
        progress: opts.progress ?? null,
      });
      return id;
    },
    async notify(mediaId, kind, jobId) {
      await queue.add(JobName.notify, { mediaId, kind }, jobOptions(QueueName.notify, jobId));
    },
    async close() {
      await queue.close();
      connection.disconnect();
      await db.close();
      await t.cleanup();
    },
  };
}

/** A real socket.io client that records what it hears. */
export interface Client {
  socket: Socket;
  notifications: NotificationDto[];
  reads: Array<{ ids: string[] | 'all' }>;
  statuses: Array<{ mediaId: string; status: string; progress: number | null }>;
  close(): void;
}

export function connect(
  url: string,
  auth: { token?: string; header?: string } = {},
  opts: { timeoutMs?: number } = {},
): Promise<Client> {
  const socket = connectClient(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: auth.token !== undefined ? { token: auth.token } : {},
    extraHeaders: auth.header ? { authorization: auth.header } : {},
    timeout: opts.timeoutMs ?? 5000,
  });
  const client: Client = { socket, notifications: [], reads: [], statuses: [], close: () => void socket.disconnect() };
  socket.on('notification', (n: NotificationDto) => client.notifications.push(n));
  socket.on('notification:read', (e: { ids: string[] | 'all' }) => client.reads.push(e));
  socket.on('media:status', (e: Client['statuses'][number]) => client.statuses.push(e));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.disconnect();
      reject(err);
    });
  });
}

export async function api(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  token?: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
