import { bigserial, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

// This service's own tables, apart from the media pipeline's: one Postgres schema, one migration set.
export const snsIngest = pgSchema('sns_ingest');

/**
 * Notify jobs decided in the same transaction as the state change they announce. A row is deleted once
 * the job is in Redis; rows left behind (Redis was down) are queued by the sweep.
 */
export const notifyOutbox = snsIngest.table('notify_outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  mediaId: uuid('media_id').notNull(),
  kind: text('kind').notNull(),
  /** BullMQ job id: queuing the same row twice adds one job. */
  jobId: text('job_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type NotifyOutboxRow = typeof notifyOutbox.$inferSelect;
