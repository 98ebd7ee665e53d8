import type { Server, Socket } from 'socket.io';
import { z } from '@mp/config';
import { AppError, SocketEvent, type NotificationDto } from '@mp/contracts';
import { authenticate, bearerToken } from '@mp/auth';
import type { Db } from '@mp/db';
import type { Logger } from '@mp/logging';
import type { NotifierMetrics } from './metrics';
import { parseNotificationId, type NotificationsService } from './notifications.service';
import { TokenBucket } from './rate-limit';
import { SocketQuota } from './socket-quota';
import { userRoom } from './user-events';

export interface GatewayOptions {
  db: Db;
  notifications: NotificationsService;
  metrics: NotifierMetrics;
  logger: Logger;
  replayLimit: number;
  /** Open sockets one user may have on this process. */
  socketsPerUser: number;
  rate: { burst: number; perSecond: number; maxDropped: number };
}

interface SocketData {
  userId: string;
}

/** The one event a client may send: mark a notification read, as `POST /v1/notifications/:id/read` does. */
const ReadRequest = z.object({ id: z.union([z.string(), z.number()]) });
type Ack = (reply: { ok: true } | { error: { code: string; message: string } }) => void;

const clientHandlers = {
  [SocketEvent.notificationRead]: markRead,
} as const;
const knownEvents = new Set<string>(Object.keys(clientHandlers));

/**
 * Sockets authenticate at the handshake with the API token (`auth.token`, or `Authorization: Bearer`),
 * join their user's room, and get their unread notifications replayed. A user has at most
 * `socketsPerUser` sockets open on this process; more are refused at the handshake.
 */
export function attachGateway(io: Server, opts: GatewayOptions): void {
  const quota = new SocketQuota(opts.socketsPerUser);
  io.use(async (socket, next) => {
    try {
      const user = await authenticate(opts.db, handshakeToken(socket));
      if (!user) return next(unauthorized());
      if (!quota.take(user.id)) return next(tooManySockets(opts.socketsPerUser));
      // Given back once, when the socket disconnects or its connection closes (even before it connected).
      let released = false;
      const release = () => {
        if (!released) quota.release(user.id);
        released = true;
      };
      socket.once('disconnect', release);
      socket.conn.once('close', release);
      (socket.data as SocketData).userId = user.id;
      next();
    } catch (err) {
      opts.logger.error({ err: (err as Error).message }, 'socket authentication failed');
      next(Object.assign(new Error('unavailable'), { data: { code: 'UNAVAILABLE', message: 'Try again later.' } }));
    }
  });

  io.on('connection', (socket) => {
    const { userId } = socket.data as SocketData;
    const log = opts.logger.child({ socketId: socket.id, userId });
    guardIncoming(socket, opts, log);
    void socket.join(userRoom(userId));
    void replayUnread(socket, userId, opts, log);
  });
}

function handshakeToken(socket: Socket): string | null {
  const auth: unknown = socket.handshake.auth;
  const given = auth && typeof auth === 'object' ? (auth as Record<string, unknown>).token : undefined;
  if (typeof given === 'string') return bearerToken(`Bearer ${given}`);
  return bearerToken(socket.handshake.headers.authorization);
}

function tooManySockets(limit: number): Error {
  return Object.assign(new Error('too many connections'), {
    data: {
      code: 'TOO_MANY_CONNECTIONS',
      message: `This user already has ${limit} connections open here; close one first.`,
    },
  });
}

function unauthorized(): Error {
  return Object.assign(new Error('unauthorized'), {
    data: { code: 'UNAUTHORIZED', message: 'A valid API token is required (auth.token or Authorization: Bearer).' },
  });
}

/**
 * Only known events, within the socket's rate, reach a handler; everything else is dropped. A socket that keeps
 * flooding is disconnected. Oversized messages never get here: maxHttpBufferSize closes that socket.
 */
function guardIncoming(socket: Socket, opts: GatewayOptions, log: Logger): void {
  const bucket = new TokenBucket(opts.rate.burst, opts.rate.perSecond, Date.now());
  let droppedInARow = 0;
  socket.use((packet, _next) => {
    const [event, ...args] = packet;
    if (!bucket.take(Date.now())) {
      opts.metrics.clientEventsDropped.inc({ reason: 'rate' });
      if (++droppedInARow >= opts.rate.maxDropped) {
        log.warn({ dropped: droppedInARow }, 'socket flooding: disconnected');
        socket.disconnect(true);
      }
      return;
    }
    droppedInARow = 0;
    if (typeof event !== 'string' || !knownEvents.has(event)) {
      opts.metrics.clientEventsDropped.inc({ reason: 'unknown' });
      return;
    }
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as Ack) : undefined;
    const handler = clientHandlers[event as keyof typeof clientHandlers];
    handler(socket, args[0], opts)
      .then(() => ack?.({ ok: true }))
      .catch((err: unknown) => {
        const e = err instanceof AppError ? err : null;
        if (!e) log.error({ err: (err as Error).message, event }, 'client event failed');
        opts.metrics.clientEventsDropped.inc({ reason: e ? 'invalid' : 'error' });
        ack?.({ error: { code: e?.code ?? 'INTERNAL', message: e?.message ?? 'Internal error.' } });
      });
    // Never call next: the handlers above are the only ones, and the built-in dispatch would also
    // deliver events nobody handles.
  });
}

async function markRead(socket: Socket, payload: unknown, opts: GatewayOptions): Promise<void> {
  const parsed = ReadRequest.safeParse(payload);
  const id = parsed.success ? parseNotificationId(parsed.data.id) : null;
  if (id === null) throw new AppError(400, 'VALIDATION', 'Expected { id } with a notification id.');
  await opts.notifications.markRead((socket.data as SocketData).userId, id);
}

/**
 * Replays unread notifications (oldest first) after joining the room, so nothing stored while the user was
 * offline is missed. Those that reach the socket live while the replay is read are not sent twice; one stored
 * and sent live in the instant between the replay's read and its sending can still arrive twice (same id).
 */
async function replayUnread(socket: Socket, userId: string, opts: GatewayOptions, log: Logger): Promise<void> {
  const sentLive = new Set<string>();
  const track = (event: string, n: NotificationDto) => {
    if (event === SocketEvent.notification) sentLive.add(n.id);
  };
  socket.onAnyOutgoing(track);
  try {
    const unread = (await opts.notifications.unreadForReplay(userId, opts.replayLimit)).filter(
      (n) => !sentLive.has(n.id),
    );
    for (const n of unread) socket.emit(SocketEvent.notification, n);
    if (unread.length) opts.metrics.eventsEmitted.inc({ event: SocketEvent.notification }, unread.length);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'replay failed');
  } finally {
    socket.offAnyOutgoing(track);
  }
}
