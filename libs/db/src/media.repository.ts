import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from './client';
import { media, outputs, type Media, type NewMedia, type Output } from './schema';

export interface MediaCursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(c: MediaCursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`).toString('base64url');
}

export function decodeCursor(s: string): MediaCursor | null {
  const [iso, id] = Buffer.from(s, 'base64url').toString().split('|');
  if (!iso || !id || !/^[0-9a-f-]{36}$/.test(id)) return null;
  const createdAt = new Date(iso);
  return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id };
}

/** The only place that talks SQL for media and outputs. */
export class MediaRepository {
  constructor(private readonly db: Db) {}

  async insert(row: NewMedia): Promise<Media> {
    const [m] = await this.db.insert(media).values(row).returning();
    return m!;
  }

  /** Inserts unless a media with the same S3 key exists; returns the row either way. */
  async insertOrGetByKey(row: NewMedia): Promise<{ media: Media; created: boolean }> {
    const [m] = await this.db.insert(media).values(row).onConflictDoNothing({ target: media.s3Key }).returning();
    if (m) return { media: m, created: true };
    const [existing] = await this.db.select().from(media).where(eq(media.s3Key, row.s3Key));
    return { media: existing!, created: false };
  }

  async get(id: string): Promise<Media | null> {
    const [m] = await this.db.select().from(media).where(eq(media.id, id));
    return m ?? null;
  }

  /** A user's media, or null when it does not exist or is someone else's. */
  async getOwned(userId: string, id: string): Promise<Media | null> {
    const [m] = await this.db
      .select()
      .from(media)
      .where(and(eq(media.id, id), eq(media.userId, userId)));
    return m ?? null;
  }

  /** Newest first, keyset pagination on (created_at, id). */
  async listOwned(userId: string, limit: number, cursor: MediaCursor | null): Promise<{ items: Media[]; next: MediaCursor | null }> {
    const rows = await this.db
      .select()
      .from(media)
      .where(
        and(
          eq(media.userId, userId),
          cursor
            ? or(lt(media.createdAt, cursor.createdAt), and(eq(media.createdAt, cursor.createdAt), lt(media.id, cursor.id)))
            : undefined,
        ),
      )
      .orderBy(desc(media.createdAt), desc(media.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async outputsOf(mediaId: string): Promise<Output[]> {
    return this.db.select().from(outputs).where(eq(outputs.mediaId, mediaId)).orderBy(outputs.createdAt, outputs.s3Key);
  }

  async getOutput(mediaId: string, outputId: string): Promise<Output | null> {
    const [o] = await this.db
      .select()
      .from(outputs)
      .where(and(eq(outputs.id, outputId), eq(outputs.mediaId, mediaId)));
    return o ?? null;
  }

  async markEnqueued(id: string): Promise<void> {
    await this.db
      .update(media)
      .set({
        enqueuedAt: new Date(),
        status: sql`case when ${media.status} = 'uploaded' then 'queued'::media_status else ${media.status} end`,
        updatedAt: new Date(),
      })
      .where(eq(media.id, id));
  }

  /** Uploads whose transcode job never reached the queue. */
  async unqueued(olderThan: Date, limit = 100): Promise<Pick<Media, 'id'>[]> {
    return this.db
      .select({ id: media.id })
      .from(media)
      .where(and(isNull(media.enqueuedAt), lt(media.createdAt, olderThan)))
      .orderBy(media.createdAt)
      .limit(limit);
  }

  async delete(id: string): Promise<void> {
    await this.db.delete(media).where(eq(media.id, id));
  }
}
