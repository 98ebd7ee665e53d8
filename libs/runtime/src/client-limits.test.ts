import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mp/logging';
import { createHttpServer } from './http';

/** A raw TCP client: what it was sent back, and when the server closed it. */
function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const started = Date.now();
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  // The server cutting this socket is what the test waits for; what it received says how it ended.
  socket.on('error', () => {});
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) =>
    socket.once('close', () => resolve({ afterMs: Date.now() - started, received })),
  );
  return { socket, closed, received: () => received };
}

/** Writes `bytes` one at a time, every `everyMs`, until the socket closes or they run out. */
async function trickle(socket: net.Socket, bytes: string, everyMs: number): Promise<void> {
  for (const b of bytes) {
    if (socket.destroyed) return;
    socket.write(b);
    await sleep(everyMs);
  }
}

function errorOf(response: string): { status: number; body: unknown } {
  const [head, body] = response.split('\r\n\r\n');
  return { status: Number(head!.split(' ')[1]), body: JSON.parse(body!) };
}

const HEADERS_MS = 300;
const REQUEST_MS = 600;
const IDLE_MS = 400;

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  ({ app } = createHttpServer({
    service: 'limits-test',
    logger: createLogger('limits-test', process.env.TEST_LOG_LEVEL ?? 'silent'),
    limits: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS, maxConnectionsPerIp: 5 },
  }));
  app.post('/echo', async (req) => ({ got: req.body }));
  app.post(
    '/guarded',
    {
      onRequest: async (_req, reply) => reply.status(401).send({ error: { code: 'UNAUTHENTICATED', message: 'No.' } }),
    },
    async () => ({}),
  );
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: 1024 * 1024 },
    (_req, body, done) => done(null, body),
  );
  app.post('/upload', { config: { bodyIdleTimeoutMs: IDLE_MS } }, async (req) => {
    await sleep(IDLE_MS * 2); // work after the body has arrived is not cut
    return { bytes: (req.body as Buffer).length };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await app.close();
});

/** /healthz over a connection of its own that closes after the answer (a pooled one would count against the limit). */
async function healthy(): Promise<number> {
  const c = connect(port);
  c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  return Number((await c.closed).received.split(' ')[1]);
}

describe('headers timeout', () => {
  it('cuts a client that trickles its headers, with 408 REQUEST_TIMEOUT', async () => {
    const c = connect(port);
    void trickle(c.socket, 'GET /healthz HTTP/1.1\r\nX-Slow: ' + 'a'.repeat(100), 50);
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeGreaterThanOrEqual(HEADERS_MS - 20);
    expect(afterMs).toBeLessThan(HEADERS_MS * 3);
    expect(errorOf(received)).toEqual({
      status: 408,
      body: { error: { code: 'REQUEST_TIMEOUT', message: 'The request headers did not arrive in time.' } },
    });
    expect(await healthy()).toBe(200);
  });

  it('cuts a connection that sends nothing at all', async () => {
    const c = connect(port);
    const { afterMs } = await c.closed;
    expect(afterMs).toBeLessThan(HEADERS_MS * 3);
  });
});

describe('request timeout', () => {
  it('cuts a client that trickles its body, with 408 REQUEST_TIMEOUT', async () => {
    const c = connect(port);
    const body = JSON.stringify({ name: 'x'.repeat(200) });
    c.socket.write(
      `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    void trickle(c.socket, body, 50);
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_MS - 20);
    expect(afterMs).toBeLessThan(REQUEST_MS * 3);
    expect(errorOf(received)).toEqual({
      status: 408,
      body: { error: { code: 'REQUEST_TIMEOUT', message: `The request body did not arrive within ${REQUEST_MS} ms.` } },
    });
    expect(await healthy()).toBe(200);
  });

  it('holds a body still arriving after an early answer to the same time', async () => {
    const c = connect(port);
    c.socket.write(
      'POST /guarded HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n',
    );
    void trickle(c.socket, '{' + ' '.repeat(199), 50);
    const { afterMs, received } = await c.closed;
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
    expect(afterMs).toBeLessThan(REQUEST_MS * 3);
  });

  it('lets a body that arrives in time through', async () => {
    const c = connect(port);
    c.socket.write(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}',
    );
    const { received } = await c.closed;
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(received.split('\r\n\r\n')[1]!)).toEqual({ got: { a: 1 } });
  });
});

describe('body idle timeout (a route with bodyIdleTimeoutMs)', () => {
  const head = (length: number) =>
    `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;

  it('lets a body that keeps moving take longer than the request timeout', async () => {
    const c = connect(port);
    const body = 'b'.repeat(20);
    c.socket.write(head(body.length));
    await trickle(c.socket, body, IDLE_MS / 4); // about 2 s in all, over three times REQUEST_MS
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeGreaterThan(REQUEST_MS * 2);
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(received.split('\r\n\r\n')[1]!)).toEqual({ bytes: 20 });
  });

  it('cuts a body that stalls for the idle time, with 408 REQUEST_STALLED', async () => {
    const c = connect(port);
    c.socket.write(head(100) + 'b'.repeat(10));
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeGreaterThanOrEqual(IDLE_MS - 20);
    expect(afterMs).toBeLessThan(IDLE_MS * 3);
    expect(errorOf(received)).toEqual({
      status: 408,
      body: { error: { code: 'REQUEST_STALLED', message: `No byte of the request body arrived for ${IDLE_MS} ms.` } },
    });
    expect(await healthy()).toBe(200);
  });
});

describe('connections per address', () => {
  it('closes a connection over the limit at once, and takes new ones once others close', async () => {
    const held = Array.from({ length: 5 }, () => connect(port));
    await Promise.all(held.map((c) => new Promise((resolve) => c.socket.once('connect', resolve))));
    await sleep(50);
    const refused = connect(port);
    const { afterMs, received } = await refused.closed;
    expect(afterMs).toBeLessThan(HEADERS_MS / 2);
    expect(received).toBe('');
    expect(held.every((c) => !c.socket.destroyed)).toBe(true);

    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await sleep(50);
    expect(await healthy()).toBe(200);
  });
});
