import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { MediaKind, MediaStatus, OutputStatus } from '@mp/contracts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const created = () => ts('created_at').notNull().defaultNow();
const updated = () => ts('updated_at').notNull().defaultNow();

export const mediaKind = pgEnum('media_kind', MediaKind);
export const mediaStatus = pgEnum('media_status', MediaStatus);
export const outputStatus = pgEnum('output_status', OutputStatus);

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  /** SHA-256 of the API token; the token itself is shown once and never stored. */
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: created(),
});

export const media = pgTable(
  'media',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The sanitised name, safe in keys and headers. */
    name: text('name').notNull(),
    /** The file name exactly as the user gave it, for display only; null for media recorded before it was kept. */
    originalName: text('original_name'),
    kind: mediaKind('kind').notNull(),
    contentType: text('content_type').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256'),
    s3Key: text('s3_key').notNull(),
    status: mediaStatus('status').notNull().default('uploaded'),
    statusDetail: text('status_detail'),
    progress: integer('progress'),
    /** When the transcode job was handed to the queue; null means the sweep must (re)queue it. */
    enqueuedAt: ts('enqueued_at'),
    source: text('source').notNull().default('api'),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [
    uniqueIndex('media_s3_key_uq').on(t.s3Key),
    index('media_user_created_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    index('media_unqueued_idx')
      .on(t.createdAt)
      .where(sql`${t.enqueuedAt} is null`),
  ],
);

export const outputs = pgTable(
  'outputs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    /** What this output is: wav, flac, m4a, mp4-720p, mp4-480p, thumbnail, half, thumb-320 … */
    format: text('format').notNull(),
    presetId: text('preset_id'),
    s3Key: text('s3_key').notNull(),
    contentType: text('content_type'),
    status: outputStatus('status').notNull().default('pending'),
    statusDetail: text('status_detail'),
    size: bigint('size', { mode: 'number' }),
    durationMs: integer('duration_ms'),
    width: integer('width'),
    height: integer('height'),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [uniqueIndex('outputs_media_key_uq').on(t.mediaId, t.s3Key)],
);

/** One engine job per media: intent is recorded before CreateJob, the engine's id after. */
export const transcodeJobs = pgTable(
  'transcode_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    engine: text('engine').notNull(),
    pipelineId: text('pipeline_id'),
    engineJobId: text('engine_job_id'),
    state: text('state').notNull().default('intent'),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [
    uniqueIndex('transcode_jobs_media_uq').on(t.mediaId),
    uniqueIndex('transcode_jobs_engine_uq').on(t.engineJobId),
  ],
);

export const notifications = pgTable(
  'notifications',
  {
    /** Monotonic: clients resume from the last id they saw. */
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** A media's notifications go with it. */
    mediaId: uuid('media_id').references(() => media.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    text: text('text').notNull(),
    /** One notification per (user, event): a retried notify job does not store a second one. */
    dedupeKey: text('dedupe_key').notNull(),
    createdAt: created(),
    readAt: ts('read_at'),
  },
  (t) => [
    uniqueIndex('notifications_dedupe_uq').on(t.userId, t.dedupeKey),
    index('notifications_user_id_idx').on(t.userId, t.id.desc()),
  ],
);

/** SNS messages seen, by MessageId: a redelivery is acknowledged and not processed twice. */
export const snsMessages = pgTable('sns_messages', {
  messageId: text('message_id').primaryKey(),
  topicArn: text('topic_arn').notNull(),
  type: text('type').notNull(),
  receivedAt: created(),
});

/**
 * Notify jobs decided in the same transaction as the state change they announce, by every producer of
 * `notify`. A row is deleted once its job is in Redis; rows left behind (Redis down, a crash) are queued by
 * the producers' sweeps.
 */
export const notifyOutbox = pgTable(
  'notify_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mediaId: uuid('media_id').notNull(),
    kind: text('kind').notNull(),
    /** BullMQ job id: queuing the same row twice adds one job. */
    jobId: text('job_id').notNull(),
    createdAt: created(),
  },
  (t) => [index('notify_outbox_created_idx').on(t.createdAt)],
);

/**
 * A deleted media, written in the delete's transaction: its objects and its engine job are purged after
 * the rows are gone. Kept for a while once purged, so that whatever arrives late for it (an engine
 * notification, a retried dispatch) wakes the purge again instead of leaving files behind.
 */
export const mediaTombstones = pgTable(
  'media_tombstones',
  {
    mediaId: uuid('media_id').primaryKey(),
    userId: uuid('user_id').notNull(),
    kind: mediaKind('kind').notNull(),
    pipelineId: text('pipeline_id'),
    /** The engine job recorded for the media when it was deleted. */
    engineJobId: text('engine_job_id'),
    /** Set when a dispatch had called CreateJob without recording an answer: a job may exist, found by its metadata. */
    engineCallSince: ts('engine_call_since'),
    deletedAt: ts('deleted_at').notNull().defaultNow(),
    /** Next purge attempt; a claim moves it on, so a purger that dies leaves the row due again. */
    dueAt: ts('due_at').notNull().defaultNow(),
    /** Bumped by every claim and wake: a purge only completes the version it claimed. */
    version: integer('version').notNull().default(0),
    /** When the prefixes were last found emptied with nothing left to write into them; null while due. */
    purgedAt: ts('purged_at'),
  },
  (t) => [
    index('media_tombstones_due_idx')
      .on(t.dueAt)
      .where(sql`${t.purgedAt} is null`),
  ],
);

/**
 * A resumable (tus) upload while it is in flight: whose it is, what it becomes, and when it expires. The row
 * goes when the upload expires or is terminated; media_id is the media a finished upload is recorded as.
 */
export const uploads = pgTable(
  'uploads',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    mediaId: uuid('media_id').notNull().unique(),
    /** The name from Upload-Metadata, as the user gave it. */
    name: text('name').notNull(),
    length: bigint('length', { mode: 'number' }).notNull(),
    /** Set by the sniff of the first bytes. */
    kind: mediaKind('kind'),
    contentType: text('content_type'),
    completedAt: ts('completed_at'),
    createdAt: created(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('uploads_user_idx').on(t.userId), index('uploads_expires_idx').on(t.expiresAt)],
);

export type User = typeof users.$inferSelect;
export type Media = typeof media.$inferSelect;
export type NewMedia = typeof media.$inferInsert;
export type Output = typeof outputs.$inferSelect;
export type NewOutput = typeof outputs.$inferInsert;
export type TranscodeJobRow = typeof transcodeJobs.$inferSelect;
export type Notification = typeof notifications.$inferSelect;
export type NotifyOutboxRow = typeof notifyOutbox.$inferSelect;
export type MediaTombstone = typeof mediaTombstones.$inferSelect;
export type UploadRow = typeof uploads.$inferSelect;
