import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { eq } from 'drizzle-orm';
import { createDb, media as mediaTable, users, type DbHandle } from '@mp/db';
import { eventually, freePort } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { ADMIN, startGateway, upload, type Running } from './helpers';

const HEADERS_MS = 400;
const REQUEST_MS = 800;
const IDLE_MS = 1000;
const PART = 5 * 1024 * 1024;
const BOUNDARY = 'hardeningboundary';

let g: Running;
let db: DbHandle;
let alice: { id: string; token: string };
let mp3: Buffer;

beforeAll(async () => {
  g = await startGateway({
    HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
    UPLOAD_IDLE_TIMEOUT_MS: String(IDLE_MS),
    UPLOAD_PART_BYTES: String(PART),
  });
  db = createDb(g.t.databaseUrl, { max: 2 });
  alice = await g.user('alice');
  mp3 = await readFile(await generateMedia('mp3', path.join(await mkdtemp(path.join(tmpdir(), 'gw-hard-')), 'a.mp3')));
});
afterAll(async () => {
  await db?.close();
  await g?.close();
});

const portOf = (url: string) => Number(new URL(url).port);

/** A raw TCP client: what it was sent back, and when the server closed it. */
function connect(url: string) {
  const socket = net.connect(portOf(url), '127.0.0.1');
  const started = Date.now();
  let received = '';
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) =>
    socket.once('close', () => resolve({ afterMs: Date.now() - started, received })),
  );
  return { socket, connected, closed, received: () => received };
}

/** Writes one byte every `everyMs` until the socket closes or the bytes run out. */
async function trickle(socket: net.Socket, bytes: string, everyMs: number): Promise<void> {
  for (const b of bytes) {
    if (socket.destroyed) return;
    socket.write(b);
    await sleep(everyMs);
  }
}

function parse(response: string): { status: number; body: unknown } {
  const at = response.indexOf('\r\n\r\n');
  return { status: Number(response.split(' ')[1]), body: JSON.parse(response.slice(at + 4)) };
}

function uploadHead(token: string, contentLength: number): string {
  return (
    `POST /v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n` +
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${contentLength}\r\n\r\n`
  );
}
const partHead = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n\r\n`);
const partTail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

async function mediaRows(userId: string) {
  return db.db.select().from(mediaTable).where(eq(mediaTable.userId, userId));
}
async function openMultipartUploads(prefix: string) {
  const page = await g.t.s3Client.send(new ListMultipartUploadsCommand({ Bucket: g.t.bucket, Prefix: prefix }));
  return page.Uploads ?? [];
}
async function objectKeys(prefix: string) {
  const page = await g.t.s3Client.send(new ListObjectsV2Command({ Bucket: g.t.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key);
}
async function healthz(url = g.url) {
  return (await fetch(`${url}/healthz`)).status;
}

describe('slow clients', () => {
  it('cuts a client that trickles its headers with 408 REQUEST_TIMEOUT', async () => {
    const c = connect(g.url);
    void trickle(c.socket, `POST /v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n`, 100);
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeLessThan(HEADERS_MS * 3);
    expect(parse(received)).toEqual({
      status: 408,
      body: { error: { code: 'REQUEST_TIMEOUT', message: 'The request headers did not arrive in time.' } },
    });
    expect(await healthz()).toBe(200);
  });

  it('cuts a client that trickles its body to POST /v1/users with 408 REQUEST_TIMEOUT, and creates no user', async () => {
    const before = (await db.db.select().from(users)).length;
    const body = JSON.stringify({ name: 'slow loris' });
    const c = connect(g.url);
    c.socket.write(
      `POST /v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    void trickle(c.socket, body, 150);
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(afterMs).toBeLessThan(REQUEST_MS * 2);
    expect(parse(received)).toEqual({
      status: 408,
      body: { error: { code: 'REQUEST_TIMEOUT', message: `The request body did not arrive within ${REQUEST_MS} ms.` } },
    });
    expect((await db.db.select().from(users)).length).toBe(before);
    expect(await healthz()).toBe(200);
  });

  it('answers POST /v1/users without the admin token before reading the body', async () => {
    const c = connect(g.url);
    c.socket.write(
      'POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    );
    await eventually(async () => c.received().length > 0, { timeoutMs: REQUEST_MS / 2, intervalMs: 10 });
    expect(parse(c.received())).toEqual({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', message: 'The admin token is required to create users.' } },
    });
    void trickle(c.socket, ' '.repeat(99), 100);
    const { afterMs } = await c.closed;
    expect(afterMs).toBeLessThan(REQUEST_MS * 2);
  });

  it('answers POST /v1/media without a token before reading the body', async () => {
    const c = connect(g.url);
    c.socket.write(uploadHead('not-a-token', 1_000_000));
    await eventually(async () => c.received().length > 0, { timeoutMs: REQUEST_MS / 2, intervalMs: 10 });
    expect(parse(c.received())).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    c.socket.destroy();
  });

  it('cuts a stalled upload after UPLOAD_IDLE_TIMEOUT_MS with 408, leaving no multipart upload and no row', async () => {
    const user = await g.user('staller');
    const prefix = `media/${user.id}/`;
    // More than one part, so the multipart upload has begun when the client stalls.
    const sent = Buffer.concat([partHead, mp3, Buffer.alloc(PART + 64 * 1024 - mp3.length)]);
    const c = connect(g.url);
    c.socket.write(uploadHead(user.token, sent.length + 1_000_000 + partTail.length));
    c.socket.write(sent);
    await eventually(async () => (await openMultipartUploads(prefix)).length === 1, { timeoutMs: 10_000 });

    const { received } = await c.closed;
    expect(parse(received)).toEqual({
      status: 408,
      body: { error: { code: 'REQUEST_STALLED', message: `No byte of the request body arrived for ${IDLE_MS} ms.` } },
    });
    await eventually(async () => (await openMultipartUploads(prefix)).length === 0, { timeoutMs: 10_000 });
    expect(await objectKeys(prefix)).toEqual([]);
    expect(await mediaRows(user.id)).toEqual([]);
    expect(await healthz()).toBe(200);
  });

  it('lets an upload that keeps moving take longer than the request timeout', async () => {
    const user = await g.user('patient');
    const body = Buffer.concat([partHead, mp3, partTail]);
    const c = connect(g.url);
    c.socket.write(uploadHead(user.token, body.length));
    const chunks = 12;
    const size = Math.ceil(body.length / chunks);
    const started = Date.now();
    for (let i = 0; i < chunks; i += 1) {
      c.socket.write(body.subarray(i * size, (i + 1) * size));
      await sleep(IDLE_MS / 4);
    }
    const { received } = await c.closed;
    expect(Date.now() - started).toBeGreaterThan(REQUEST_MS * 2);
    const res = parse(received);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ size: mp3.length, contentType: 'audio/mpeg' });
    expect(await mediaRows(user.id)).toHaveLength(1);
  });
});

describe('connections per address', () => {
  it('closes connections over MAX_CONNECTIONS_PER_IP at once, and answers /healthz once they are gone', async () => {
    const limited = await startGateway({ MAX_CONNECTIONS_PER_IP: '4' }, g.t);
    try {
      const held = Array.from({ length: 4 }, () => connect(limited.url));
      await Promise.all(held.map((c) => c.connected));
      await sleep(50);
      const over = connect(limited.url);
      const { afterMs, received } = await over.closed;
      expect(received).toBe('');
      expect(afterMs).toBeLessThan(200);
      expect(held.every((c) => !c.socket.destroyed)).toBe(true);

      for (const c of held) c.socket.destroy();
      await Promise.all(held.map((c) => c.closed));
      await sleep(50);
      expect(await healthz(limited.url)).toBe(200);
    } finally {
      await limited.gw.close();
    }
  });
});

describe('bad input', () => {
  async function post(pathname: string, headers: Record<string, string>, body: string | Buffer) {
    const res = await fetch(`${g.url}${pathname}`, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as unknown };
  }

  it.each([
    ['no boundary', 'multipart/form-data'],
    ['an empty boundary', 'multipart/form-data; boundary='],
    ['a boundary the body does not use', 'multipart/form-data; boundary=another'],
  ])('answers 400 BAD_MULTIPART for a multipart body with %s, and stores nothing', async (_name, contentType) => {
    const res = await post(
      '/v1/media',
      { authorization: `Bearer ${alice.token}`, 'content-type': contentType },
      Buffer.concat([partHead, mp3, partTail]),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'BAD_MULTIPART' } });
    expect(await mediaRows(alice.id)).toEqual([]);
    expect(await healthz()).toBe(200);
  });

  it('answers 400 BAD_MULTIPART for a body cut inside its part headers', async () => {
    const res = await post(
      '/v1/media',
      { authorization: `Bearer ${alice.token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"`,
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'BAD_MULTIPART' } });
  });

  const id = '0b9f7a0e-6b1c-4f7e-9a51-2d1f0c3e4b5a';
  const cursor = (s: string) => Buffer.from(s).toString('base64url');
  it.each([
    ['36 dashes for an id', cursor(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`)],
    ["a date past Postgres's range", cursor(`+275760-09-13T00:00:00.000Z|${id}`)],
    ["a date before Postgres's range", cursor(`-271821-04-20T00:00:00.000Z|${id}`)],
    ['year 0', cursor(`0000-06-01T00:00:00.000Z|${id}`)],
  ])('answers 400 BAD_CURSOR for a cursor with %s', async (_name, given) => {
    const res = await fetch(`${g.url}/v1/media?cursor=${given}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'BAD_CURSOR', message: 'The cursor is not one this API gave out.' },
    });
  });

  it.each([
    ['year 1', cursor(`0001-01-01T00:00:00.000Z|${id}`)],
    ['year 9999', cursor(`9999-12-31T23:59:59.999Z|${id}`)],
  ])('takes a well-formed cursor at the edge of the range: %s', async (_name, given) => {
    const res = await fetch(`${g.url}/v1/media?cursor=${given}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(res.status).toBe(200);
  });

  it.each([['   '], ['\t\n']])(
    'answers 400 VALIDATION for a user name of only spaces (%j), and creates no user',
    async (name) => {
      const before = (await db.db.select().from(users)).length;
      const res = await post(
        '/v1/users',
        { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        JSON.stringify({ name }),
      );
      expect(res).toEqual({
        status: 400,
        body: {
          error: { code: 'VALIDATION', message: 'The name must have at least one character other than spaces.' },
        },
      });
      expect((await db.db.select().from(users)).length).toBe(before);
    },
  );

  it('answers 404 "No such output." for an unknown output of a real media, and "No such media." for an unknown media', async () => {
    const bob = await g.user('bob');
    const created = await upload(g.url, bob.token, new Blob([mp3]), 'a.mp3');
    expect(created.status).toBe(201);
    const mediaId = (created.body as { id: string }).id;
    const download = (m: string) =>
      fetch(`${g.url}/v1/media/${m}/outputs/${id}/download?redirect=false`, {
        headers: { authorization: `Bearer ${bob.token}` },
      });

    const noOutput = await download(mediaId);
    expect(noOutput.status).toBe(404);
    expect(await noOutput.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No such output.' } });
    const noMedia = await download(id);
    expect(noMedia.status).toBe(404);
    expect(await noMedia.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No such media.' } });
  });
});

describe('a client that disconnects in the first bytes of an upload (the process, its log)', () => {
  let child: ChildProcess;
  let url: string;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../src/main.ts', import.meta.url))], {
      env: { ...process.env, ...g.t.env, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let rest = '';
    child.stdout!.on('data', (d: Buffer) => {
      const all = rest + d.toString();
      const split = all.split('\n');
      rest = split.pop()!;
      for (const line of split) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    await eventually(
      () =>
        fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
      { timeoutMs: 30_000 },
    );
  });
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it.each([
    ['inside the multipart preamble', (b: Buffer) => b.subarray(0, 10)],
    ['inside the part headers', (b: Buffer) => b.subarray(0, partHead.length - 20)],
    ['in the first bytes of the file', (b: Buffer) => b.subarray(0, partHead.length + 100)],
  ])('disconnecting %s is an info line, not a 500', async (_name, cutAt) => {
    const body = Buffer.concat([partHead, mp3, partTail]);
    const from = lines.length;
    const c = connect(url);
    c.socket.write(uploadHead(alice.token, body.length));
    c.socket.write(cutAt(body));
    await sleep(100);
    c.socket.destroy();
    const abandoned = 'upload abandoned: the connection closed before the file arrived';
    await eventually(async () => lines.slice(from).find((l) => l.msg === abandoned || Number(l.level) >= 50), {
      timeoutMs: 5000,
    });
    await sleep(200);
    const after = lines.slice(from);
    expect(after.filter((l) => Number(l.level) >= 50)).toEqual([]);
    expect(after.filter((l) => l.status === 500)).toEqual([]);
    expect(after.find((l) => l.msg === abandoned)).toMatchObject({ level: 30 });
    expect(await fetch(`${url}/healthz`).then((r) => r.status)).toBe(200);
  });
});
