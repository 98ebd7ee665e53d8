import { writeFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { inject } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import {
  createGatewayClient,
  createUser as createGatewayUser,
  type MediaWithOutputs,
  type NotificationDto,
} from '@mp/contracts';

/** A media with its outputs, as the gateway answers for one media. */
export type MediaDto = MediaWithOutputs;

/** The system as a user meets it: its public HTTP API and its websocket, nothing else. */
export function target() {
  return inject('e2e');
}

const gateway = (token: string) => createGatewayClient({ baseUrl: target().gateway, token });

export function createUser(name: string): Promise<{ id: string; token: string }> {
  const t = target();
  return createGatewayUser(t.gateway, t.adminToken, name);
}

export function upload(token: string, bytes: Buffer, filename: string): Promise<MediaDto> {
  return gateway(token).uploadBytes(bytes, filename);
}

export function getMedia(token: string, id: string): Promise<MediaDto> {
  return gateway(token).media(id);
}

/** Fetches an output through its short-lived URL; returns the bytes. */
export async function download(token: string, mediaId: string, outputId: string, toFile?: string): Promise<Buffer> {
  const { body } = await gateway(token).download(mediaId, outputId);
  const bytes = await buffer(body);
  if (toFile) await writeFile(toFile, bytes);
  return bytes;
}

export interface Listener {
  socket: Socket;
  notifications: NotificationDto[];
  statuses: Array<{ mediaId: string; status: string; progress: number | null }>;
  waitFor(pred: (n: NotificationDto) => boolean, timeoutMs?: number): Promise<NotificationDto>;
  close(): void;
}

export async function listen(token: string): Promise<Listener> {
  const socket = io(target().notifier, { auth: { token }, transports: ['websocket'], reconnection: false });
  const notifications: NotificationDto[] = [];
  const statuses: Listener['statuses'] = [];
  const waiters: Array<{ pred: (n: NotificationDto) => boolean; resolve: (n: NotificationDto) => void }> = [];
  socket.on('notification', (n: NotificationDto) => {
    notifications.push(n);
    for (const w of [...waiters]) {
      if (!w.pred(n)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(n);
    }
  });
  socket.on('media:status', (s: Listener['statuses'][number]) => statuses.push(s));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    socket,
    notifications,
    statuses,
    waitFor(pred, timeoutMs = 120_000) {
      const seen = notifications.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no such notification arrived in time')), timeoutMs);
        waiters.push({ pred, resolve: (n) => (clearTimeout(timer), resolve(n)) });
      });
    },
    close: () => socket.disconnect(),
  };
}
