import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifier, type RunningNotifier } from '../src/server';
import { api, connect, createBed, sleep, type Bed, type Client } from './helpers';

const HEADERS_MS = 400;
const PER_IP = 4;

let bed: Bed;
let notifier: RunningNotifier;

beforeAll(async () => {
  bed = await createBed();
  notifier = await startNotifier(
    bed.config({ HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS), MAX_CONNECTIONS_PER_IP: String(PER_IP) }),
  );
});

afterAll(async () => {
  await notifier?.close();
  await bed?.close();
});

/** A raw TCP client: what it was sent back, and when the server closed it. */
function raw() {
  const socket = net.connect(Number(new URL(notifier.url).port), '127.0.0.1');
  const started = Date.now();
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  // The server cutting this socket is what the test waits for; what it received says how it ended.
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) =>
    socket.once('close', () => resolve({ afterMs: Date.now() - started, received })),
  );
  return { socket, connected, closed };
}

describe('a client that holds connections', () => {
  it('cuts a connection that never finishes its headers with 408 REQUEST_TIMEOUT', async () => {
    const c = raw();
    c.socket.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n');
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeLessThan(HEADERS_MS * 3);
    const [head, body] = received.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(body!)).toEqual({
      error: { code: 'REQUEST_TIMEOUT', message: 'The request headers did not arrive in time.' },
    });
  });

  it(`refuses sockets over MAX_CONNECTIONS_PER_IP (${PER_IP}) from one address at once, and takes them again once others close`, async () => {
    const alice = await bed.user('alice');
    const sockets: Client[] = [];
    for (let i = 0; i < PER_IP; i += 1) sockets.push(await connect(notifier.url, { token: alice.token }));
    // The headers timeout is the handshake's alone: an open websocket outlives it.
    await sleep(HEADERS_MS * 3);
    expect(sockets.every((c) => c.socket.connected)).toBe(true);

    const tcp = raw();
    const { afterMs, received } = await tcp.closed;
    expect(received).toBe('');
    expect(afterMs).toBeLessThan(200);
    await expect(connect(notifier.url, { token: alice.token }, { timeoutMs: 2000 })).rejects.toThrow();
    expect(sockets.every((c) => c.socket.connected)).toBe(true);

    sockets.pop()!.close();
    await sleep(200);
    const again = await connect(notifier.url, { token: alice.token });
    expect(again.socket.connected).toBe(true);
    for (const c of [...sockets, again]) c.close();
    await sleep(200);
    expect((await api(notifier.url, 'GET', '/healthz')).status).toBe(200);
  });
});
