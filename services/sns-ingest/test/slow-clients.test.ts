import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snsMessages, type DbHandle } from '@mp/db';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { createDb, startFakeSns, startService, type FakeSns, type Running } from './helpers';

const HEADERS_MS = 400;
const REQUEST_MS = 800;

let t: TestEnv;
let sns: FakeSns;
let svc: Running;
let dbh: DbHandle;

beforeAll(async () => {
  t = await createTestEnv();
  const { migrateSnsIngest } = await import('../src/server');
  await migrateSnsIngest(t.databaseUrl);
  sns = await startFakeSns();
  svc = await startService(t, sns, {
    HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
  });
  dbh = createDb(t.databaseUrl, { max: 1 });
});

afterAll(async () => {
  await svc?.close();
  await sns?.close();
  await dbh?.close();
  await t?.cleanup();
});

/** A raw TCP client: what it was sent back, and when the server closed it. */
function connect(url: string) {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  const started = Date.now();
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  // The server cutting this socket is what the test waits for; what it received says how it ended.
  socket.on('error', () => {});
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) =>
    socket.once('close', () => resolve({ afterMs: Date.now() - started, received })),
  );
  return { socket, closed };
}

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

describe('POST /sns from a slow client', () => {
  it('cuts a client that trickles its headers with 408 REQUEST_TIMEOUT', async () => {
    const c = connect(svc.url);
    void trickle(c.socket, 'POST /sns HTTP/1.1\r\nHost: x\r\nx-amz-sns-message-type: Notification\r\n', 100);
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeLessThan(HEADERS_MS * 3);
    expect(parse(received)).toEqual({
      status: 408,
      body: { error: { code: 'REQUEST_TIMEOUT', message: 'The request headers did not arrive in time.' } },
    });
  });

  it('cuts a client that trickles a signed message with 408 REQUEST_TIMEOUT, and records nothing', async () => {
    const body = JSON.stringify(sns.sign('Notification', '{"state":"COMPLETED"}'));
    const c = connect(svc.url);
    c.socket.write(
      `POST /sns HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    void trickle(c.socket, body, 100);
    const { afterMs, received } = await c.closed;
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(afterMs).toBeLessThan(REQUEST_MS * 2);
    expect(parse(received)).toEqual({
      status: 408,
      body: { error: { code: 'REQUEST_TIMEOUT', message: `The request body did not arrive within ${REQUEST_MS} ms.` } },
    });
    expect(await dbh.db.select().from(snsMessages)).toEqual([]);
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });
});
