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
  notifier = await startNotifier(
    bed.config({ SOCKET_RATE_BURST: '20', SOCKET_RATE_PER_SECOND: '10', SOCKET_MAX_DROPPED: '50' }),
  );
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

describe('sockets per user', () => {
  it("refuses a user's sockets past the limit on a process, with a code; others and a freed slot are served", async () => {
    const capped = await startNotifier(bed.config({ SOCKETS_PER_USER: '2' }));
    const danas: Client[] = [];
    let erinSocket: Client | undefined;
    try {
      const dana = await bed.user('dana');
      const erin = await bed.user('erin');
      danas.push(await connect(capped.url, { token: dana.token }), await connect(capped.url, { token: dana.token }));
      const err = (await connect(capped.url, { token: dana.token }).catch((e: unknown) => e)) as Error & {
        data?: { code: string; message: string };
      };
      expect(err.message).toBe('too many connections');
      expect(err.data).toMatchObject({
        code: 'TOO_MANY_CONNECTIONS',
        message: expect.stringContaining('2 connections'),
      });
      erinSocket = await connect(capped.url, { token: erin.token });
      expect(erinSocket.socket.connected).toBe(true);

      // A closed socket frees its slot.
      danas.shift()!.close();
      danas.push(await eventually(() => connect(capped.url, { token: dana.token }).catch(() => undefined)));
      // Many handshakes at once, with no socket open: two get through, the others are refused.
      for (const c of danas.splice(0)) c.close();
      await sleep(200);
      const burst = await Promise.all(
        Array.from({ length: 6 }, () => connect(capped.url, { token: dana.token }).catch(() => undefined)),
      );
      danas.push(...burst.filter((c): c is Client => c !== undefined));
      expect(danas).toHaveLength(2);
      await sleep(200);
      expect(danas.filter((c) => c.socket.connected)).toHaveLength(2);
    } finally {
      for (const c of [...danas, ...(erinSocket ? [erinSocket] : [])]) c.close();
      await capped.close();
    }
  });
});

describe('notify jobs', () => {
  it('stores "Your file X has been processed" for the owner and sends it to their sockets only', async () => {
    const owner = await bed.user('owner');
    const other = await bed.user('other');
    const [ownerSocket, ownerTab2, otherSocket] = [
      await client(owner.token),
      await client(owner.token),
      await client(other.token),
    ];
    const mediaId = await bed.media(owner.id, 'song.mp3');

    await bed.notify(mediaId, 'media.complete');

    await eventually(async () => ownerSocket.notifications.length === 1 && ownerTab2.notifications.length === 1);
    const n = ownerSocket.notifications[0]!;
    expect(n).toMatchObject({
      kind: 'media.complete',
      text: 'Your file song.mp3 has been processed',
      mediaId,
      readAt: null,
    });
    expect(ownerTab2.notifications).toEqual([n]);
    const listed = await api(notifier.url, 'GET', '/v1/notifications', owner.token);
    expect(listed.body.items).toEqual([n]);
    await sleep(200);
    expect(otherSocket.notifications).toEqual([]);
  });

  it('tells the owner why a file failed', async () => {
    const owner = await bed.user('failing');
    const c = await client(owner.token);
    const mediaId = await bed.media(owner.id, 'broken.wav', {
      status: 'failed',
      statusDetail: 'Invalid data found when processing input',
    });
    await bed.notify(mediaId, 'media.failed');
    await eventually(async () => c.notifications.length === 1);
    expect(c.notifications[0]).toMatchObject({
      kind: 'media.failed',
      text: 'Your file broken.wav could not be processed: it could not be read as audio. Open it for details.',
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
    await eventually(
      async () =>
        (await bed.queue.getCompletedCount()) > 0 &&
        (await bed.queue.getWaitingCount()) === 0 &&
        (await bed.queue.getActiveCount()) === 0,
    );
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

describe('two users, many notifications', () => {
  it('delivers each notification to its owner only, over sockets and REST', async () => {
    const ann = await bed.user('ann');
    const bob = await bed.user('bob');
    const [annSocket, bobSocket] = [await client(ann.token), await client(bob.token)];
    const annMedia: string[] = [];
    const bobMedia: string[] = [];
    for (let i = 0; i < 30; i++) {
      annMedia.push(await bed.media(ann.id, `ann-${i}.mp3`));
      bobMedia.push(await bed.media(bob.id, `bob-${i}.mp3`));
    }
    await Promise.all([...annMedia, ...bobMedia].map((id) => bed.notify(id, 'media.complete')));

    await eventually(async () => annSocket.notifications.length === 30 && bobSocket.notifications.length === 30);
    await sleep(200);
    expect(new Set(annSocket.notifications.map((n) => n.mediaId))).toEqual(new Set(annMedia));
    expect(new Set(bobSocket.notifications.map((n) => n.mediaId))).toEqual(new Set(bobMedia));
    expect(annSocket.notifications.every((n) => n.text.startsWith('Your file ann-'))).toBe(true);

    const annListed = await listAll(ann.token, '');
    const bobListed = await listAll(bob.token, '');
    expect(new Set(annListed.map((n) => n.mediaId))).toEqual(new Set(annMedia));
    expect(new Set(bobListed.map((n) => n.mediaId))).toEqual(new Set(bobMedia));
  });
});

type Listed = { id: string; mediaId: string; readAt: string | null };
async function listAll(token: string, query: string, limit = 7): Promise<Listed[]> {
  const all: Listed[] = [];
  let cursor: string | null = null;
  do {
    const res = await api(
      notifier.url,
      'GET',
      `/v1/notifications?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`,
      token,
    );
    expect(res.status).toBe(200);
    all.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return all;
}

describe('REST', () => {
  it('pages newest first with a cursor, and filters unread', async () => {
    const u = await bed.user('pager');
    const c = await client(u.token);
    for (let i = 0; i < 12; i++) await bed.notify(await bed.media(u.id, `p${i}.mp3`), 'media.complete');
    await eventually(async () => c.notifications.length === 12);

    const first = await api(notifier.url, 'GET', '/v1/notifications?cursor=&limit=5', u.token);
    expect(first.body.items).toHaveLength(5);
    expect(first.body.nextCursor).toBe(first.body.items[4].id);
    const all = await listAll(u.token, '', 5);
    const ids = all.map((n) => Number(n.id));
    expect(ids).toHaveLength(12);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(12);

    await api(notifier.url, 'POST', `/v1/notifications/${all[0]!.id}/read`, u.token);
    const unread = await listAll(u.token, '&unread=true', 5);
    expect(unread.map((n) => n.id)).toEqual(all.slice(1).map((n) => n.id));
  });

  it('answers 401 with a code without a valid token', async () => {
    for (const token of [undefined, 'mpt_wrong-token-value']) {
      const res = await api(notifier.url, 'GET', '/v1/notifications', token);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
    const read = await api(notifier.url, 'POST', '/v1/notifications/read-all');
    expect(read.status).toBe(401);
  });

  it("answers 404 for another user's notification and leaves it unread", async () => {
    const owner = await bed.user('owner404');
    const intruder = await bed.user('intruder');
    const c = await client(owner.token);
    await bed.notify(await bed.media(owner.id, 'mine.mp3'), 'media.complete');
    await eventually(async () => c.notifications.length === 1);
    const id = c.notifications[0]!.id;

    const res = await api(notifier.url, 'POST', `/v1/notifications/${id}/read`, intruder.token);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    const rows = await bed.db.sql`select read_at from notifications where id = ${id}`;
    expect(rows[0]!.read_at).toBeNull();
  });

  it.each(['abc', '0', '-1', '1e3', '99999999999999999999'])('answers 404 for the id %s', async (id) => {
    const u = await bed.user('badid');
    const res = await api(notifier.url, 'POST', `/v1/notifications/${id}/read`, u.token);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('answers 400 with a code for a bad cursor or limit', async () => {
    const u = await bed.user('badquery');
    for (const q of ['cursor=abc', 'limit=0', 'limit=1000', 'unread=yes']) {
      const res = await api(notifier.url, 'GET', `/v1/notifications?${q}`, u.token);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION');
    }
  });
});

describe('offline users', () => {
  it('get every notification they missed on connect, once each', async () => {
    const u = await bed.user('offline');
    const media = [
      await bed.media(u.id, 'one.mp3'),
      await bed.media(u.id, 'two.mp3'),
      await bed.media(u.id, 'three.mp3'),
    ];
    for (const id of media) await bed.notify(id, 'media.complete');
    await eventually(async () => {
      const rows = await bed.db.sql`select count(*)::int as n from notifications where user_id = ${u.id}`;
      return rows[0]!.n === 3;
    });

    const c = await client(u.token);
    await eventually(async () => c.notifications.length >= 3);
    await sleep(300);
    const ids = c.notifications.map((n) => Number(n.id));
    expect(ids, 'oldest first').toEqual([...ids].sort((x, y) => x - y));
    expect(c.notifications).toHaveLength(3);
    expect(new Set(c.notifications.map((n) => n.mediaId))).toEqual(new Set(media));
    expect(c.notifications.map((n) => n.text).sort()).toEqual([
      'Your file one.mp3 has been processed',
      'Your file three.mp3 has been processed',
      'Your file two.mp3 has been processed',
    ]);
  });
});

describe('read state', () => {
  it('a read on one socket reaches the other socket, and survives reconnect', async () => {
    const u = await bed.user('reader');
    const phone = await client(u.token);
    const laptop = await client(u.token);
    const [a, b] = [await bed.media(u.id, 'a.mp3'), await bed.media(u.id, 'b.mp3')];
    await bed.notify(a, 'media.complete');
    await bed.notify(b, 'media.complete');
    await eventually(async () => phone.notifications.length === 2 && laptop.notifications.length === 2);
    const read = phone.notifications.find((n) => n.mediaId === a)!;

    const ack = await phone.socket.timeout(5000).emitWithAck('notification:read', { id: read.id });
    expect(ack).toEqual({ ok: true });
    await eventually(async () => laptop.reads.length === 1);
    expect(laptop.reads).toEqual([{ ids: [read.id] }]);
    expect(phone.reads).toEqual([{ ids: [read.id] }]);

    phone.close();
    laptop.close();
    const again = await client(u.token);
    await eventually(async () => again.notifications.length >= 1);
    await sleep(300);
    expect(again.notifications.map((n) => n.mediaId)).toEqual([b]);
  });

  it('read over REST reaches every socket of the user only, and read-all clears the rest', async () => {
    const u = await bed.user('rest-reader');
    const other = await bed.user('bystander');
    const s1 = await client(u.token);
    const s2 = await client(u.token);
    const bystander = await client(other.token);
    const ids: string[] = [];
    for (const name of ['x.mp3', 'y.mp3', 'z.mp3']) await bed.notify(await bed.media(u.id, name), 'media.complete');
    await eventually(async () => s1.notifications.length === 3 && s2.notifications.length === 3);
    ids.push(...s1.notifications.map((n) => n.id).sort((x, y) => Number(x) - Number(y)));

    const one = await api(notifier.url, 'POST', `/v1/notifications/${ids[0]}/read`, u.token);
    expect(one.status).toBe(200);
    expect(one.body.notification).toMatchObject({ id: ids[0], readAt: expect.any(String) });
    const all = await api(notifier.url, 'POST', '/v1/notifications/read-all', u.token);
    expect(all.body).toEqual({ updated: 2 });

    await eventually(async () => s1.reads.length === 2 && s2.reads.length === 2);
    expect(s2.reads).toEqual([{ ids: [ids[0]] }, { ids: [ids[1], ids[2]] }]);
    const unread = await api(notifier.url, 'GET', '/v1/notifications?unread=true', u.token);
    expect(unread.body.items).toEqual([]);
    await sleep(200);
    expect(bystander.reads).toEqual([]);
  });

  it('reading an already read notification changes nothing and tells nobody', async () => {
    const u = await bed.user('reread');
    const c = await client(u.token);
    await bed.notify(await bed.media(u.id, 'r.mp3'), 'media.complete');
    await eventually(async () => c.notifications.length === 1);
    const id = c.notifications[0]!.id;
    const first = await api(notifier.url, 'POST', `/v1/notifications/${id}/read`, u.token);
    const second = await api(notifier.url, 'POST', `/v1/notifications/${id}/read`, u.token);
    expect(second.body.notification.readAt).toBe(first.body.notification.readAt);
    await sleep(200);
    expect(c.reads).toHaveLength(1);
  });
});

describe('misbehaving clients', () => {
  it('ignores unknown and malformed events, and the socket keeps working', async () => {
    const u = await bed.user('sloppy');
    const c = await client(u.token);
    const noAck = await c.socket
      .timeout(300)
      .emitWithAck('admin:everything', { all: true })
      .then(
        () => 'answered',
        () => 'ignored',
      );
    expect(noAck).toBe('ignored');
    for (const payload of [null, 'x', 42, [], {}, { id: 'abc' }, { id: {} }, { id: -5 }, { id: '1'.repeat(40) }]) {
      const ack = await c.socket.timeout(2000).emitWithAck('notification:read', payload);
      expect(ack.error.code, JSON.stringify(payload)).toBe('VALIDATION');
    }
    const missing = await c.socket.timeout(2000).emitWithAck('notification:read', { id: '987654321' });
    expect(missing.error.code).toBe('NOT_FOUND');
    c.socket.emit('notification:read'); // no payload, no ack
    c.socket.send('a message event');

    await bed.notify(await bed.media(u.id, 'still.mp3'), 'media.complete');
    await eventually(async () => c.notifications.length === 1);
    expect(c.socket.connected).toBe(true);
  });

  it('closes a connection that sends an unparsable packet, and only that one', async () => {
    const u = await bed.user('garbler');
    const calm = await bed.user('calm-garble');
    const garbler = await client(u.token);
    const bystander = await client(calm.token);
    const disconnected = new Promise<string>((resolve) => garbler.socket.once('disconnect', resolve));
    garbler.socket.io.engine.send('2[not json');
    expect(await disconnected).toBe('transport close');

    await bed.notify(await bed.media(calm.id, 'calm-garble.mp3'), 'media.complete');
    await eventually(async () => bystander.notifications.length === 1);
  });

  it('cuts off an oversized message without harming other users', async () => {
    const big = await bed.user('big');
    const calm = await bed.user('calm');
    const offender = await client(big.token);
    const bystander = await client(calm.token);
    const disconnected = new Promise<string>((resolve) => offender.socket.once('disconnect', resolve));
    offender.socket.emit('notification:read', { id: '1', pad: 'x'.repeat(64 * 1024) });
    expect(await disconnected).toBe('transport close');

    await bed.notify(await bed.media(calm.id, 'calm.mp3'), 'media.complete');
    await eventually(async () => bystander.notifications.length === 1);
    expect(bystander.socket.connected).toBe(true);
  });

  it('drops a flood beyond the rate and disconnects the flooder; others are served', async () => {
    const flooder = await bed.user('flooder');
    const calm = await bed.user('calm2');
    const f = await client(flooder.token);
    const bystander = await client(calm.token);
    await bed.notify(await bed.media(flooder.id, 'f.mp3'), 'media.complete');
    await eventually(async () => f.notifications.length === 1);
    const id = f.notifications[0]!.id;
    let acks = 0;
    const disconnected = new Promise<string>((resolve) => f.socket.once('disconnect', resolve));
    for (let i = 0; i < 500; i++) f.socket.emit('notification:read', { id }, () => acks++);
    expect(await disconnected).toBe('io server disconnect');
    expect(acks).toBeLessThanOrEqual(25);
    await eventually(async () => (await bed.db.sql`select read_at from notifications where id = ${id}`)[0]!.read_at);

    await bed.notify(await bed.media(calm.id, 'calm2.mp3'), 'media.complete');
    await eventually(async () => bystander.notifications.length === 1);
    const again = await client(flooder.token);
    expect(again.socket.connected).toBe(true);
  });
});

describe('operations', () => {
  it('answers /healthz and /readyz with Postgres and Redis checked', async () => {
    expect((await api(notifier.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await api(notifier.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok', redis: 'ok' });
  });

  it('exposes connected sockets, events emitted and queue lag on /metrics', async () => {
    const u = await bed.user('metered');
    const c = await client(u.token);
    await bed.notify(await bed.media(u.id, 'm.mp3'), 'media.complete');
    await eventually(async () => c.notifications.length === 1);
    const text = await (await fetch(`${notifier.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('notifier_connected_sockets')).toBeGreaterThanOrEqual(1);
    expect(value('notifier_events_emitted_total')).toBeGreaterThanOrEqual(1);
    expect(value('notifier_queue_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(value('notifier_queue_waiting_jobs')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/notifier_client_events_dropped_total\{[^}]*reason="rate"/);
  });
});
