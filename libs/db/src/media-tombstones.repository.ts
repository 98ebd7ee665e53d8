import { and, eq, inArray, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from './client';
import type { DbTransaction } from './media.repository';
import { mediaTombstones, type Media, type MediaTombstone, type TranscodeJobRow } from './schema';

/** The only place that talks SQL for media_tombstones: the purge work list of deleted media. */
export class MediaTombstonesRepository {
  constructor(private readonly db: Db | DbTransaction) {}

  /** Written in the delete's transaction, with the engine job as it was recorded then. Idempotent. */
  async record(m: Pick<Media, 'id' | 'userId' | 'kind'>, job: TranscodeJobRow | null): Promise<void> {
    await this.db
      .insert(mediaTombstones)
      .values({
        mediaId: m.id,
        userId: m.userId,
        kind: m.kind,
        pipelineId: job?.pipelineId ?? null,
        engineJobId: job?.engineJobId ?? null,
        engineCallSince: job && !job.engineJobId && job.state === 'calling' ? job.createdAt : null,
      })
      .onConflictDoNothing();
  }

  async get(mediaId: string): Promise<MediaTombstone | null> {
    const [row] = await this.db.select().from(mediaTombstones).where(eq(mediaTombstones.mediaId, mediaId));
    return row ?? null;
  }

  /**
   * Something may have written into a deleted media's prefixes (its engine job ended, a dispatch finished):
   * due now, and not purged until a purge that starts after this. False when the media has no tombstone.
   */
  async wake(mediaId: string, userId?: string): Promise<boolean> {
    const rows = await this.db
      .update(mediaTombstones)
      .set({ dueAt: sql`now()`, purgedAt: null, version: sql`${mediaTombstones.version} + 1` })
      .where(and(eq(mediaTombstones.mediaId, mediaId), userId ? eq(mediaTombstones.userId, userId) : undefined))
      .returning({ id: mediaTombstones.mediaId });
    return rows.length > 0;
  }

  /**
   * Claims due tombstones: each is due again after retryMs, so one whose purge fails or waits for its engine
   * job is retried then, and one whose purger died is taken by another. Replicas skip each other's rows.
   */
  async claimDue(retryMs: number, limit: number, mediaId?: string): Promise<MediaTombstone[]> {
    const due = this.db
      .select({ id: mediaTombstones.mediaId })
      .from(mediaTombstones)
      .where(
        and(
          isNull(mediaTombstones.purgedAt),
          lte(mediaTombstones.dueAt, sql`now()`),
          mediaId ? eq(mediaTombstones.mediaId, mediaId) : undefined,
        ),
      )
      .orderBy(mediaTombstones.dueAt)
      .limit(limit)
      .for('update', { skipLocked: true });
    return this.db
      .update(mediaTombstones)
      .set({
        dueAt: sql`now() + ${`${retryMs} milliseconds`}::interval`,
        version: sql`${mediaTombstones.version} + 1`,
      })
      .where(inArray(mediaTombstones.mediaId, due))
      .returning();
  }

  /** The engine job a reconcile found for a media deleted while its job was being created. */
  async recordEngineJob(mediaId: string, engineJobId: string): Promise<void> {
    await this.db.update(mediaTombstones).set({ engineJobId }).where(eq(mediaTombstones.mediaId, mediaId));
  }

  /** Done, unless the tombstone was woken (or claimed again) since this claim. */
  async markPurged(claimed: Pick<MediaTombstone, 'mediaId' | 'version'>): Promise<boolean> {
    const rows = await this.db
      .update(mediaTombstones)
      .set({ purgedAt: sql`now()` })
      .where(and(eq(mediaTombstones.mediaId, claimed.mediaId), eq(mediaTombstones.version, claimed.version)))
      .returning({ id: mediaTombstones.mediaId });
    return rows.length > 0;
  }

  /** Forgets tombstones purged before the cutoff. */
  async expire(purgedBefore: Date): Promise<number> {
    const rows = await this.db
      .delete(mediaTombstones)
      .where(and(isNotNull(mediaTombstones.purgedAt), lt(mediaTombstones.purgedAt, purgedBefore)))
      .returning({ id: mediaTombstones.mediaId });
    return rows.length;
  }
}
