import type { Server } from 'socket.io';
import { SocketEvent, type MediaStatusEvent, type NotificationDto, type NotificationReadEvent } from '@mp/contracts';
import type { NotifierMetrics } from './metrics';

/** Every socket of a user joins this room, on whichever replica it is connected. */
export const userRoom = (userId: string) => `user:${userId}`;

export interface ServerToClientEvents {
  [SocketEvent.notification]: (n: NotificationDto) => void;
  [SocketEvent.notificationRead]: (e: NotificationReadEvent) => void;
  [SocketEvent.mediaStatus]: (e: MediaStatusEvent) => void;
}

/**
 * Sends to one user's sockets. Through the Redis adapter the room spans every replica, so the
 * process that handled a job need not be the one holding the user's connections.
 */
export function createUserEvents(io: Server, metrics: NotifierMetrics) {
  const send = <E extends keyof ServerToClientEvents>(
    userId: string,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ) => {
    io.to(userRoom(userId)).emit(event, ...args);
    metrics.eventsEmitted.inc({ event });
  };
  return {
    notification: (userId: string, n: NotificationDto) => send(userId, SocketEvent.notification, n),
    read: (userId: string, e: NotificationReadEvent) => send(userId, SocketEvent.notificationRead, e),
    mediaStatus: (userId: string, e: MediaStatusEvent) => send(userId, SocketEvent.mediaStatus, e),
  };
}

export type UserEvents = ReturnType<typeof createUserEvents>;
