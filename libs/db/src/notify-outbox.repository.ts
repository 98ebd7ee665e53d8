import { eq, inArray, lt, sql } from 'drizzle-orm';
import type { NotifyKind } from '@mp/contracts';
import type { Db } from './client';
import type { DbTransaction } from './media.repository';
import { notifyOutbox, type NotifyOutboxRow } from './schema';

export interface OutboxEntry {
  mediaId: string;
  kind: NotifyKind;
  jobId: string;
}

/** The only place that talks SQL for notify_outbox. */
export class NotifyOutboxRepository {
  constructor(private readonly db: Db | DbTransaction) {}

  async add(entry: OutboxEntry): Promise<NotifyOutboxRow> {
    const [row] = await this.db.insert(notifyOutbox).values(entry).returning();
    return row!;
  }

  /** Rows older than the cutoff, locked for this transaction; rows another sweeper holds are skipped. */
  async lockDue(olderThan: Date, limit: number): Promise<NotifyOutboxRow[]> {
    return this.db
      .select()
      .from(notifyOutbox)
      .where(lt(notifyOutbox.createdAt, olderThan))
      .orderBy(notifyOutbox.id)
      .limit(limit)
      .for('update', { skipLocked: true });
  }

  async remove(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .delete(notifyOutbox)
      .where(ids.length === 1 ? eq(notifyOutbox.id, ids[0]!) : inArray(notifyOutbox.id, [...ids]));
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(notifyOutbox);
    return row?.n ?? 0;
  }
}
