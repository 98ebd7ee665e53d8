import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@mp/testbed';
import type { RunningNotifier } from '../src/server';
import { startNotifier } from '../src/server';
import { api, connect, createBed, sleep, type Bed, type Client } from './helpers';

let bed: Bed;
let notifier: RunningNotifier;
const open: Client[] = [];

async function client(token: string): Promise<Client> {
  const c = await connect(notifier.url, { token });
  open.push(c);
  return c;
}

beforeAll(async () => {
  bed = await createBed();
  notifier = await startNotifier(bed.config({ SOCKET_RATE_BURST: '20', SOCKET_RATE_PER_SECOND: '10', SOCKET_MAX_DROPPED: '50' }));
});

afterAll(async () => {
  for (const c of open) c.close();
  await notifier?.close();
  await bed?.close();
});

describe('handshake authentication', () => {
  it('accepts the API token from auth.token and from the Authorization header', async () => {
    const alice = await bed.user('alice');
    const byAuth = await client(alice.token);
    const byHeader = await connect(notifier.url, { header: `Bearer ${alice.token}` });
    open.push(byHeader);
    expect(byAuth.socket.connected).toBe(true);
    expect(byHeader.socket.connected).toBe(true);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { token: 'mpt_not-a-real-token-at-all' }],
    ['a malformed header', { header: 'Basic abc' }],
    ['a token that is not a string', { token: 42 as unknown as string }],
  ])('refuses %s', async (_name, auth) => {
    const err = (await connect(notifier.url, auth).catch((e: unknown) => e)) as Error & { data?: { code: string } };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('unauthorized');
    expect(err.data?.code).toBe('UNAUTHORIZED');
  });
});

describe('notify jobs', () => {
  it('stores "Your file X has been processed" for the owner and sends it to their sockets only', async () => {
    const owner = await bed.user('owner');
    const other = await bed.user('other');
    const [ownerSocket, ownerTab2, otherSocket] = [await client(owner.token), await client(owner.token), await client(other.token)];
    const mediaId = await bed.media(owner.id, 'song.mp3');

    await bed.notify(mediaId, 'media.complete');

    await eventually(async () => ownerSocket.notifications.length === 1 && ownerTab2.notifications.length === 1);
    const n = ownerSocket.notifications[0]!;
    expect(n).toMatchObject({ kind: 'media.complete', text: 'Your file song.mp3 has been processed', mediaId, readAt: null });
    expect(ownerTab2.notifications).toEqual([n]);
    const listed = await api(notifier.url, 'GET', '/v1/notifications', owner.token);
    expect(listed.body.items).toEqual([n]);
    await sleep(200);
    expect(otherSocket.notifications).toEqual([]);
  });

  it('tells the owner why a file failed', async () => {
    const owner = await bed.user('failing');
    const c = await client(owner.token);
    const mediaId = await bed.media(owner.id, 'broken.wav', { status: 'failed', statusDetail: 'Invalid data found when processing input' });
    await bed.notify(mediaId, 'media.failed');
    await eventually(async () => c.notifications.length === 1);
    expect(c.notifications[0]).toMatchObject({
      kind: 'media.failed',
      text: 'Your file broken.wav could not be processed: Invalid data found when processing input',
    });
  });

  it('stores nothing twice when the same event is queued again', async () => {
    const owner = await bed.user('dupes');
    const c = await client(owner.token);
    const mediaId = await bed.media(owner.id, 'twice.mp3');
    await bed.notify(mediaId, 'media.complete');
    await eventually(async () => c.notifications.length === 1);
    await bed.notify(mediaId, 'media.complete');
    await bed.notify(mediaId, 'media.complete');
    await eventually(async () => (await bed.queue.getCompletedCount()) > 0 && (await bed.queue.getWaitingCount()) === 0 && (await bed.queue.getActiveCount()) === 0);
    await sleep(200);
    const rows = await bed.db.sql`select count(*)::int as n from notifications where media_id = ${mediaId}`;
    expect(rows[0]!.n).toBe(1);
    expect(c.notifications).toHaveLength(1);
  });

  it('sends processing and progress as live status only', async () => {
    const owner = await bed.user('progress');
    const c = await client(owner.token);
    const mediaId = await bed.media(owner.id, 'long.mp4', { status: 'processing', progress: 42 });
    await bed.notify(mediaId, 'media.processing');
    await bed.notify(mediaId, 'media.progress');
    await eventually(async () => c.statuses.length === 2);
    expect(c.statuses).toEqual([
      { mediaId, status: 'processing', progress: 42 },
      { mediaId, status: 'processing', progress: 42 },
    ]);
    const stored = await bed.db.sql`select count(*)::int as n from notifications where media_id = ${mediaId}`;
    expect(stored[0]!.n).toBe(0);
  });

  it('completes a job whose media no longer exists, without effect', async () => {
    const gone = '00000000-0000-4000-8000-000000000000';
    await bed.queue.add('media.notify', { mediaId: gone, kind: 'media.complete' }, { jobId: 'gone-1' });
    const job = await eventually(async () => {
      const j = await bed.queue.getJob('gone-1');
      return j && (await j.isCompleted()) ? j : null;
    });
    expect(job.returnvalue).toBe('media-gone');
  });
});
