import { writeFile } from 'node:fs/promises';
import { inject } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { NotificationDto } from '@mp/contracts';

export interface MediaDto {
  id: string;
  name: string;
  kind: string;
  status: string;
  statusDetail: string | null;
  outputs: Array<{ id: string; format: string; status: string; size: number | null; width: number | null; height: number | null; durationMs: number | null }>;
}

/** The system as a user meets it: its public HTTP API and its websocket, nothing else. */
export function target() {
  return inject('e2e');
}

export async function createUser(name: string): Promise<{ id: string; token: string }> {
  const t = target();
  const res = await fetch(`${t.gateway}/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`create user: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; token: string };
}

export async function upload(token: string, bytes: Buffer, filename: string): Promise<MediaDto> {
  const form = new FormData();
  form.append('file', new Blob([bytes]), filename);
  const res = await fetch(`${target().gateway}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return (await res.json()) as MediaDto;
}

export async function getMedia(token: string, id: string): Promise<MediaDto> {
  const res = await fetch(`${target().gateway}/v1/media/${id}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`get media: ${res.status}`);
  return (await res.json()) as MediaDto;
}

/** Follows the download redirect to the presigned URL; returns the bytes. */
export async function download(token: string, mediaId: string, outputId: string, toFile?: string): Promise<Buffer> {
  const res = await fetch(`${target().gateway}/v1/media/${mediaId}/outputs/${outputId}/download`, {
    headers: { authorization: `Bearer ${token}` },
    redirect: 'manual',
  });
  if (res.status !== 302) throw new Error(`download: ${res.status} ${await res.text()}`);
  const obj = await fetch(res.headers.get('location')!);
  if (!obj.ok) throw new Error(`presigned GET: ${obj.status}`);
  const bytes = Buffer.from(await obj.arrayBuffer());
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
