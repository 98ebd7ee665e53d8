import type { MediaStatus } from './media';

/** Socket.io events from the notifier to a user's sockets. */
export const SocketEvent = {
  notification: 'notification',
  notificationRead: 'notification:read',
  mediaStatus: 'media:status',
} as const;

export interface NotificationDto {
  id: string;
  kind: string;
  text: string;
  mediaId: string | null;
  createdAt: string;
  readAt: string | null;
}

export interface MediaStatusEvent {
  mediaId: string;
  status: MediaStatus;
  progress: number | null;
}

export interface NotificationReadEvent {
  /** ids marked read, or 'all' */
  ids: string[] | 'all';
}
