import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import { notifications, type Db, type Notification } from '@mp/db';
import type { NotificationDto } from '@mp/contracts';
import type { StoredKind } from './notification-text';

export interface NewNotification {
  userId: string;
  mediaId: string;
  kind: StoredKind;
  text: string;
  dedupeKey: string;
}

export interface ListOptions {
  unreadOnly: boolean;
  /** Only ids below this one (the previous page's last id). */
  before: number | null;
  limit: number;
}

export function toDto(n: Notification): NotificationDto {
  return {
    id: String(n.id),
    kind: n.kind,
    text: n.text,
    mediaId: n.mediaId,
    createdAt: n.createdAt.toISOString(),
    readAt: n.readAt ? n.readAt.toISOString() : null,
  };
}

export function createNotificationsRepository(db: Db) {
  // Prepared once: this runs for every stored notification.
  const insert = db
    .insert(notifications)
    .values({
      userId: sql.placeholder('userId'),
      mediaId: sql.placeholder('mediaId'),
      kind: sql.placeholder('kind'),
      text: sql.placeholder('text'),
      dedupeKey: sql.placeholder('dedupeKey'),
    })
    .onConflictDoNothing({ target: [notifications.userId, notifications.dedupeKey] })
    .returning()
    .prepare('notifier_insert_notification');

  return {
    /** Stores the notification once per (user, dedupeKey); `created` is false when it already existed. */
    async insertOnce(n: NewNotification): Promise<{ row: Notification; created: boolean }> {
      const [row] = await insert.execute({ ...n });
      if (row) return { row, created: true };
      const [existing] = await db
        .select()
        .from(notifications)
        .where(and(eq(notifications.userId, n.userId), eq(notifications.dedupeKey, n.dedupeKey)))
        .limit(1);
      if (!existing) throw new Error(`notification ${n.dedupeKey} neither inserted nor found`);
      return { row: existing, created: false };
    },

    /** Newest first. */
    list(userId: string, opts: ListOptions): Promise<Notification[]> {
      return db
        .select()
        .from(notifications)
        .where(
          and(
            eq(notifications.userId, userId),
            opts.unreadOnly ? isNull(notifications.readAt) : undefined,
            opts.before !== null ? lt(notifications.id, opts.before) : undefined,
          ),
        )
        .orderBy(desc(notifications.id))
        .limit(opts.limit);
    },

    /**
     * Marks one of the user's notifications read. Null when it is not theirs (or does not exist);
     * `changed` is false when it was already read.
     */
    async markRead(userId: string, id: number): Promise<{ row: Notification; changed: boolean } | null> {
      const [row] = await db
        .update(notifications)
        .set({ readAt: new Date() })
        .where(and(eq(notifications.id, id), eq(notifications.userId, userId), isNull(notifications.readAt)))
        .returning();
      if (row) return { row, changed: true };
      const [existing] = await db
        .select()
        .from(notifications)
        .where(and(eq(notifications.id, id), eq(notifications.userId, userId)))
        .limit(1);
      return existing ? { row: existing, changed: false } : null;
    },

    /** Marks every unread notification of the user read; returns their ids. */
    async markAllRead(userId: string): Promise<number[]> {
      const rows = await db
        .update(notifications)
        .set({ readAt: new Date() })
        .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)))
        .returning({ id: notifications.id });
      return rows.map((r) => r.id).sort((a, b) => a - b);
    },
  };
}

export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>;
