import { eq } from 'drizzle-orm';
import type { Db } from './client';
import { lockMedia } from './media-lock';
import { MediaRepository, type DbTransaction } from './media.repository';
import { transcodeJobs, type NewOutput, type TranscodeJobRow } from './schema';

type Tx = DbTransaction;

/**
 * The dispatch worker's table: one engine job per media. Intent is committed before the engine is called,
 * so a retry after a crash knows a call may have happened and reconciles instead of calling again.
 */
export class TranscodeJobRepository {
  private readonly media: MediaRepository;

  constructor(private readonly db: Db | DbTransaction) {
    this.media = new MediaRepository(db);
  }

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
    await this.db
      .update(transcodeJobs)
      .set({ state: 'calling', updatedAt: new Date() })
      .where(eq(transcodeJobs.id, id));
  }

  async recordEngineJob(tx: Tx, id: string, engineJobId: string): Promise<void> {
    await tx
      .update(transcodeJobs)
      .set({ engineJobId, state: 'submitted', updatedAt: new Date() })
      .where(eq(transcodeJobs.id, id));
  }

  /** The outputs a job will produce; written by the media repository, which owns outputs. */
  recordOutputs(rows: NewOutput[]): Promise<void> {
    return this.media.recordOutputs(rows);
  }

  /** queued/uploaded → processing; never moves a finished media back. */
  async markMediaProcessing(mediaId: string): Promise<void> {
    await this.media.markProcessing(mediaId, null);
  }

  /** True when it changed: the caller announces it in the same transaction. */
  markMediaComplete(mediaId: string): Promise<boolean> {
    return this.media.markFinished(mediaId, 'complete', null);
  }

  /** True when it changed: the caller announces it in the same transaction. */
  markMediaFailed(mediaId: string, reason: string): Promise<boolean> {
    return this.media.markFinished(mediaId, 'failed', reason.slice(0, 2000));
  }

  async get(mediaId: string): Promise<TranscodeJobRow | null> {
    const [row] = await this.db.select().from(transcodeJobs).where(eq(transcodeJobs.mediaId, mediaId));
    return row ?? null;
  }
}
