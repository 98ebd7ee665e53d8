import { and, desc, eq, inArray, isNull, lt, notInArray, or, sql } from 'drizzle-orm';
import type { OutputStatus } from '@mp/contracts';
import type { Db } from './client';
import { lockMedia } from './media-lock';
import { MediaTombstonesRepository } from './media-tombstones.repository';
import { media, outputs, transcodeJobs, type Media, type NewMedia, type NewOutput, type Output } from './schema';

/** A transaction handle from `db.transaction`; repositories accept it to join one transaction. */
export type DbTransaction = Parameters<Parameters<Db['transaction']>[0]>[0];

/** What an engine reported for one output, matched by its S3 key. */
export interface OutputUpdate {
  s3Key: string;
  status: Exclude<OutputStatus, 'pending'>;
  statusDetail?: string | undefined;
  size?: number | undefined;
  durationMs?: number | undefined;
  width?: number | undefined;
  height?: number | undefined;
}

const TERMINAL_MEDIA = ['complete', 'failed'] as const;

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
  constructor(private readonly db: Db | DbTransaction) {}

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
  async listOwned(
    userId: string,
    limit: number,
    cursor: MediaCursor | null,
  ): Promise<{ items: Media[]; next: MediaCursor | null }> {
    const rows = await this.db
      .select()
      .from(media)
      .where(
        and(
          eq(media.userId, userId),
          cursor
            ? or(
                lt(media.createdAt, cursor.createdAt),
                and(eq(media.createdAt, cursor.createdAt), lt(media.id, cursor.id)),
              )
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

  /**
   * PROGRESSING from the engine. State precedence lives in the WHERE clauses, so late or repeated
   * messages are no-ops: uploaded|queued → processing, never back from complete|failed; progress only grows.
   */
  async markProcessing(
    id: string,
    progress: number | null,
  ): Promise<{ statusChanged: boolean; progressChanged: boolean }> {
    const now = new Date();
    const started = await this.db
      .update(media)
      .set({
        status: 'processing',
        ...(progress === null ? {} : { progress: sql`greatest(coalesce(${media.progress}, 0), ${progress})` }),
        updatedAt: now,
      })
      .where(and(eq(media.id, id), inArray(media.status, ['uploaded', 'queued'])))
      .returning({ id: media.id });
    if (started.length > 0) return { statusChanged: true, progressChanged: false };
    if (progress === null) return { statusChanged: false, progressChanged: false };
    const advanced = await this.db
      .update(media)
      .set({ progress, updatedAt: now })
      .where(and(eq(media.id, id), eq(media.status, 'processing'), sql`coalesce(${media.progress}, -1) < ${progress}`))
      .returning({ id: media.id });
    return { statusChanged: false, progressChanged: advanced.length > 0 };
  }

  /** Moves a media to complete or failed unless it already reached one of them. True when it changed. */
  async markFinished(
    id: string,
    status: (typeof TERMINAL_MEDIA)[number],
    statusDetail: string | null,
  ): Promise<boolean> {
    const rows = await this.db
      .update(media)
      .set({
        status,
        statusDetail,
        ...(status === 'complete' ? { progress: 100 } : {}),
        updatedAt: new Date(),
      })
      .where(and(eq(media.id, id), notInArray(media.status, [...TERMINAL_MEDIA])))
      .returning({ id: media.id });
    return rows.length > 0;
  }

  /** The outputs a job will produce, pending until the engine reports them. Idempotent. */
  async recordOutputs(rows: NewOutput[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insert(outputs)
      .values(rows)
      .onConflictDoUpdate({
        target: [outputs.mediaId, outputs.s3Key],
        set: {
          status: sql`case when ${outputs.status} = 'complete' then ${outputs.status} else excluded.status end`,
          size: sql`coalesce(excluded.size, ${outputs.size})`,
          width: sql`coalesce(excluded.width, ${outputs.width})`,
          height: sql`coalesce(excluded.height, ${outputs.height})`,
          updatedAt: new Date(),
        },
      });
  }

  /**
   * Applies engine reports to a media's outputs, matched by S3 key. pending → progressing → complete|error;
   * an output that finished never changes again. Returns how many rows changed.
   */
  async updateOutputs(mediaId: string, updates: readonly OutputUpdate[]): Promise<number> {
    let changed = 0;
    for (const u of updates) {
      const from = u.status === 'progressing' ? (['pending'] as const) : (['pending', 'progressing'] as const);
      const rows = await this.db
        .update(outputs)
        .set({
          status: u.status,
          statusDetail: u.statusDetail,
          size: u.size,
          durationMs: u.durationMs,
          width: u.width,
          height: u.height,
          updatedAt: new Date(),
        })
        .where(and(eq(outputs.mediaId, mediaId), eq(outputs.s3Key, u.s3Key), inArray(outputs.status, [...from])))
        .returning({ id: outputs.id });
      changed += rows.length;
    }
    return changed;
  }

  /**
   * Deletes a media and its rows (outputs and engine job cascade), leaving a tombstone in the same
   * transaction: whatever the pipeline still writes for it is purged later. False when it did not exist.
   */
  async delete(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await lockMedia(tx, id);
      const [m] = await tx.select().from(media).where(eq(media.id, id)).for('update');
      if (!m) return false;
      const [job] = await tx.select().from(transcodeJobs).where(eq(transcodeJobs.mediaId, id));
      await new MediaTombstonesRepository(tx).record(m, job ?? null);
      await tx.delete(media).where(eq(media.id, id));
      return true;
    });
  }
}
