import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { MediaKind } from '@mp/contracts';
import type { Db } from './client';
import { uploads, type UploadRow } from './schema';

export type NewUpload = Pick<UploadRow, 'id' | 'userId' | 'mediaId' | 'name' | 'length' | 'expiresAt'> &
  Partial<Pick<UploadRow, 'kind' | 'contentType'>>;

/** The only place that talks SQL for resumable uploads. */
export class UploadsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Records a new upload unless it would take the user's bytes in flight (unfinished uploads) over the quota.
   * Creations of one user are serialised by a transaction-scoped advisory lock, so two at once cannot both pass.
   */
  async createWithinQuota(row: NewUpload, quotaBytes: number): Promise<UploadRow | null> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`uploads:${row.userId}`}))`);
      const [inFlight] = await tx
        .select({ bytes: sql<string>`coalesce(sum(${uploads.length}), 0)` })
        .from(uploads)
        .where(and(eq(uploads.userId, row.userId), isNull(uploads.completedAt)));
      if (Number(inFlight?.bytes ?? 0) + row.length > quotaBytes) return null;
      const [created] = await tx.insert(uploads).values(row).returning();
      return created!;
    });
  }

  async get(id: string): Promise<UploadRow | null> {
    const [row] = await this.db.select().from(uploads).where(eq(uploads.id, id));
    return row ?? null;
  }

  /** The user's upload, or null when it does not exist or is someone else's. */
  async getOwned(userId: string, id: string): Promise<UploadRow | null> {
    const [row] = await this.db
      .select()
      .from(uploads)
      .where(and(eq(uploads.id, id), eq(uploads.userId, userId)));
    return row ?? null;
  }

  async setType(id: string, kind: MediaKind, contentType: string): Promise<void> {
    await this.db.update(uploads).set({ kind, contentType }).where(eq(uploads.id, id));
  }

  async markCompleted(id: string): Promise<void> {
    await this.db
      .update(uploads)
      .set({ completedAt: new Date() })
      .where(and(eq(uploads.id, id), isNull(uploads.completedAt)));
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(uploads).where(eq(uploads.id, id)).returning({ id: uploads.id });
    return rows.length > 0;
  }

  /**
   * Hands each expired upload to `remove`, then deletes its row, in one transaction per batch. The rows are
   * locked with SKIP LOCKED, so several sweepers at once never take the same upload. A row whose removal
   * failed stays for the next sweep. Returns how many rows went.
   */
  async sweepExpired(now: Date, limit: number, remove: (row: UploadRow) => Promise<void>): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(uploads)
        .where(lt(uploads.expiresAt, now))
        .orderBy(uploads.expiresAt)
        .limit(limit)
        .for('update', { skipLocked: true });
      let removed = 0;
      for (const row of rows) {
        try {
          await remove(row);
        } catch {
          continue;
        }
        await tx.delete(uploads).where(eq(uploads.id, row.id));
        removed += 1;
      }
      return removed;
    });
  }
}
