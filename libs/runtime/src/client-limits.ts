import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@mp/logging';
import { ConnectionQuota, clientAddressKey } from './connection-quota';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Exempts the route from the whole-request timeout: its body may take as long as it needs, but the
     * connection is cut once no byte of it has arrived for this long (uploads).
     */
    bodyIdleTimeoutMs?: number;
  }
}

/** How long and how many: what a slow or numerous client may hold. */
export interface ClientLimits {
  /** From a connection's first byte (or a request's first byte) to the end of its headers. */
  headersTimeoutMs: number;
  /** From the end of the headers to the end of the body, for routes without `bodyIdleTimeoutMs`. */
  requestTimeoutMs: number;
  /** Open connections one client address may hold; more are closed at once. Undefined: no limit. */
  maxConnectionsPerIp?: number | undefined;
}

export const defaultClientLimits: ClientLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

/**
 * Node's own headers timeout (it covers a connection that sends nothing, too). Its requestTimeout stays 0:
 * it spans the whole body and cannot spare one route, so the body timeouts are per request (watchBodyTime).
 * The connections are checked often enough for the timeout to be kept to within a fraction of itself.
 */
export function nodeServerOptions(limits: ClientLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** What Node reports about a connection before any request exists (timeouts, bad HTTP), in the error format. */
export function clientErrorHandler(log: Logger) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, code, message] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ([408, 'REQUEST_TIMEOUT', 'The request headers did not arrive in time.'] as const)
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? ([431, 'HEADERS_TOO_LARGE', 'The request headers are too large.'] as const)
          : ([400, 'BAD_REQUEST', 'The request is not valid HTTP.'] as const);
    log.info({ code, address: socket.remoteAddress }, 'connection closed: %s', message);
    writeRawError(socket, status, code, message);
    socket.destroy();
  };
}

/**
 * The body's time limit, per request: the whole body within `requestTimeoutMs` of the headers, or, on a route
 * with `bodyIdleTimeoutMs`, no gap longer than that between two of its bytes. Either cut answers 408 if no
 * answer was started, and closes the connection; the route then sees its body end early.
 */
export function watchBodyTime(app: FastifyInstance, limits: ClientLimits): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.raw.complete) return;
    const idleMs = req.routeOptions.config.bodyIdleTimeoutMs;
    if (idleMs) watchIdle(req, reply, idleMs);
    else watchWhole(req, reply, limits.requestTimeoutMs);
  });
}

function watchWhole(req: FastifyRequest, reply: FastifyReply, ms: number): void {
  const timer = setTimeout(() => {
    if (req.raw.complete) return;
    req.log.info({ timeoutMs: ms }, 'request cut: its body did not arrive in time');
    cut(req, reply, 'REQUEST_TIMEOUT', `The request body did not arrive within ${ms} ms.`);
  }, ms);
  timer.unref();
  // Not the reply's end: a body still arriving after an early answer (a 401) is held to the same time.
  req.raw.once('end', () => clearTimeout(timer));
  req.raw.once('close', () => clearTimeout(timer));
}

/** The socket's own inactivity timer, which the HTTP parser bumps as bytes arrive; disarmed when the body ends. */
function watchIdle(req: FastifyRequest, reply: FastifyReply, ms: number): void {
  const socket = req.raw.socket;
  req.raw.setTimeout(ms, () => {
    if (req.raw.complete) return;
    req.log.info({ idleTimeoutMs: ms, bytesRead: socket.bytesRead }, 'request cut: its body stalled');
    cut(req, reply, 'REQUEST_STALLED', `No byte of the request body arrived for ${ms} ms.`);
  });
  req.raw.once('end', () => socket.setTimeout(0));
}

function cut(req: FastifyRequest, reply: FastifyReply, code: string, message: string): void {
  if (!reply.raw.headersSent) writeRawError(req.raw.socket, 408, code, message);
  req.raw.socket.destroy();
}

/** Written straight to the socket: no response object exists yet, or the one that does will never finish. */
function writeRawError(socket: Socket, status: number, code: string, message: string): void {
  if (!socket.writable) return;
  const body = JSON.stringify({ error: { code, message } });
  const reason =
    { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status] ?? 'Error';
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** At most `max` open connections per client address; one more is closed as soon as it is accepted. */
export function limitConnectionsPerAddress(server: Server, max: number, log: Logger, onRefused?: () => void): void {
  const quota = new ConnectionQuota(max);
  server.on('connection', (socket: Socket) => {
    if (!socket.remoteAddress) return;
    const address = clientAddressKey(socket.remoteAddress);
    if (!quota.take(address)) {
      onRefused?.();
      log.debug({ address, max }, 'connection refused: too many open from this address');
      socket.destroy();
      return;
    }
    socket.once('close', () => quota.release(address));
  });
}
