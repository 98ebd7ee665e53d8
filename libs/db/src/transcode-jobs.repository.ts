import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './client';
import { lockMedia } from './media-lock';
import type { DbTransaction } from './media.repository';
import { media, outputs, transcodeJobs, type NewOutput, type TranscodeJobRow } from './schema';

type Tx = DbTransaction;

/**
 * The dispatch worker's table: one engine job per media. Intent is committed before the engine is called,
 * so a retry after a crash knows a call may have happened and reconciles instead of calling again.
 */
export class TranscodeJobRepository {
  constructor(private readonly db: Db | DbTransaction) {}

  async recordIntent(mediaId: string, engine: string, pipelineId: string | null): Promise<void> {
    await this.db.insert(transcodeJobs).values({ mediaId, engine, pipelineId, state: 'intent' }).onConflictDoNothing();
  }

  /** Runs fn holding a per-media lock, so two dispatches of one media never overlap. */
  async withMediaLock<T>(mediaId: string, fn: (row: TranscodeJobRow, tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await lockMedia(tx, mediaId);
      const [row] = await tx.select().from(transcodeJobs).where(eq(transcodeJobs.mediaId, mediaId));
      if (!row) throw new Error(`no transcode intent for media ${mediaId}`);
      return fn(row, tx);
    });
  }

  /** Committed at once (outside the lock's transaction): a call to the engine is about to happen. */
  async markCalling(id: string): Promise<void> {
    await this.db.update(transcodeJobs).set({ state: 'calling', updatedAt: new Date() }).where(eq(transcodeJobs.id, id));
  }

  async recordEngineJob(tx: Tx, id: string, engineJobId: string): Promise<void> {
    await tx
      .update(transcodeJobs)
      .set({ engineJobId, state: 'submitted', updatedAt: new Date() })
      .where(eq(transcodeJobs.id, id));
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

  /** queued/uploaded → processing; never moves a finished media back. */
  async markMediaProcessing(mediaId: string): Promise<void> {
    await this.db
      .update(media)
      .set({ status: 'processing', updatedAt: new Date() })
      .where(and(eq(media.id, mediaId), inArray(media.status, ['uploaded', 'queued'])));
  }

  /** True when it changed: the caller announces it in the same transaction. */
  async markMediaComplete(mediaId: string): Promise<boolean> {
    const rows = await this.db
      .update(media)
      .set({ status: 'complete', progress: 100, statusDetail: null, updatedAt: new Date() })
      .where(and(eq(media.id, mediaId), inArray(media.status, ['uploaded', 'queued', 'processing'])))
      .returning({ id: media.id });
    return rows.length > 0;
  }

  /** True when it changed: the caller announces it in the same transaction. */
  async markMediaFailed(mediaId: string, reason: string): Promise<boolean> {
    const rows = await this.db
      .update(media)
      .set({ status: 'failed', statusDetail: reason.slice(0, 2000), updatedAt: new Date() })
      .where(and(eq(media.id, mediaId), inArray(media.status, ['uploaded', 'queued', 'processing'])))
      .returning({ id: media.id });
    return rows.length > 0;
  }

  async get(mediaId: string): Promise<TranscodeJobRow | null> {
    const [row] = await this.db.select().from(transcodeJobs).where(eq(transcodeJobs.mediaId, mediaId));
    return row ?? null;
  }
}
