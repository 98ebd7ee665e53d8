import { AppError, type NotificationDto } from '@mp/contracts';
import { toDto, type NotificationsRepository } from './notifications.repository';
import type { UserEvents } from './user-events';

/** Above this many ids, a read-all tells other sockets `all` instead of the list. */
const MAX_IDS_IN_EVENT = 1000;

export interface Page {
  items: NotificationDto[];
  nextCursor: string | null;
}

/** What both REST and the socket do with a user's notifications; read changes reach all their sockets. */
export function createNotificationsService(repo: NotificationsRepository, events: UserEvents) {
  return {
    async list(userId: string, q: { unreadOnly: boolean; cursor: number | null; limit: number }): Promise<Page> {
      const rows = await repo.list(userId, { unreadOnly: q.unreadOnly, before: q.cursor, limit: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      const more = rows.length > q.limit;
      return { items: page.map(toDto), nextCursor: more ? String(page.at(-1)!.id) : null };
    },

    /** Unread notifications, oldest first, for a socket that just connected. */
    async unreadForReplay(userId: string, limit: number): Promise<NotificationDto[]> {
      const rows = await repo.list(userId, { unreadOnly: true, before: null, limit });
      return rows.reverse().map(toDto);
    },

    async markRead(userId: string, id: number): Promise<NotificationDto> {
      const result = await repo.markRead(userId, id);
      if (!result) throw notFound();
      if (result.changed) events.read(userId, { ids: [String(id)] });
      return toDto(result.row);
    },

    async markAllRead(userId: string): Promise<{ updated: number }> {
      const ids = await repo.markAllRead(userId);
      if (ids.length > 0) events.read(userId, { ids: ids.length > MAX_IDS_IN_EVENT ? 'all' : ids.map(String) });
      return { updated: ids.length };
    },
  };
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;

export const notFound = () => new AppError(404, 'NOT_FOUND', 'No such notification.');

/** Notification ids are positive integers; anything else names no notification. */
export function parseNotificationId(raw: unknown): number | null {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return raw;
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,15}$/.test(raw)) return null;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : null;
}
