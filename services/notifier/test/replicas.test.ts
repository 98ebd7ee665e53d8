import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@mp/testbed';
import { startNotifier, type RunningNotifier } from '../src/server';
import { api, connect, createBed, sleep, type Bed, type Client } from './helpers';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));

/** A notifier in its own process (`src/main.ts`), as a deployment runs it; resolves with its URL. */
function spawnNotifier(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serviceDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('notifier process did not start')), 30_000);
    child.once('exit', (code) => reject(new Error(`notifier process exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'notifier listening') {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${entry.port}` });
      }
    });
  });
}

let bed: Bed;
let worker: { child: ChildProcess; url: string };
let socketOnly: RunningNotifier;
const open: Client[] = [];

beforeAll(async () => {
  bed = await createBed();
  worker = await spawnNotifier({ ...bed.t.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  socketOnly = await startNotifier(bed.config({ NOTIFIER_WORKER: 'false' }));
});

afterAll(async () => {
  for (const c of open) c.close();
  worker?.child.kill('SIGKILL');
  await socketOnly?.close();
  await bed?.close();
});

async function client(url: string, token: string): Promise<Client> {
  const c = await connect(url, { token });
  open.push(c);
  return c;
}

describe('several notifier processes sharing Redis and Postgres', () => {
  it('a user connected to one replica gets the notifications whose jobs another consumed, and only theirs', async () => {
    const ann = await bed.user('ann');
    const bob = await bed.user('bob');
    const annOnSocketOnly = await client(socketOnly.url, ann.token);
    const bobOnWorker = await client(worker.url, bob.token);
    const bobOnSocketOnly = await client(socketOnly.url, bob.token);
    const annMedia: string[] = [];
    const bobMedia: string[] = [];
    for (let i = 0; i < 10; i++) {
      annMedia.push(await bed.media(ann.id, `ann-${i}.mp3`));
      bobMedia.push(await bed.media(bob.id, `bob-${i}.mp3`));
    }
    await Promise.all([...annMedia, ...bobMedia].map((id) => bed.notify(id, 'media.complete')));

    await eventually(
      async () =>
        annOnSocketOnly.notifications.length === 10 &&
        bobOnWorker.notifications.length === 10 &&
        bobOnSocketOnly.notifications.length === 10,
    );
    await sleep(300);
    expect(new Set(annOnSocketOnly.notifications.map((n) => n.mediaId))).toEqual(new Set(annMedia));
    expect(new Set(bobOnWorker.notifications.map((n) => n.mediaId))).toEqual(new Set(bobMedia));
    expect(new Set(bobOnSocketOnly.notifications.map((n) => n.mediaId))).toEqual(new Set(bobMedia));
  });

  it('a read on one replica reaches the same user on the other', async () => {
    const u = await bed.user('two-devices');
    const phone = await client(socketOnly.url, u.token);
    const laptop = await client(worker.url, u.token);
    await bed.notify(await bed.media(u.id, 'shared.mp3'), 'media.complete');
    await eventually(async () => phone.notifications.length === 1 && laptop.notifications.length === 1);
    const id = phone.notifications[0]!.id;

    const res = await api(socketOnly.url, 'POST', `/v1/notifications/${id}/read`, u.token);
    expect(res.status).toBe(200);
    await eventually(async () => laptop.reads.length === 1);
    expect(laptop.reads).toEqual([{ ids: [id] }]);

    laptop.close();
    const reconnected = await client(worker.url, u.token);
    await sleep(300);
    expect(reconnected.notifications).toEqual([]);
  });

  it('a replica shuts down cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => resolve(code)));
    worker.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
