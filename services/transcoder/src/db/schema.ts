import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { EtPreset } from '../engine/types';
import type { CreateJobOutputSpec, JobInputSpec, PipelineNotifications, PipelineOutputConfig } from '../et/shapes';

/** A job's playlist as ReadJob shows it: the request's members and its status. */
export interface JobPlaylist {
  Name: string;
  Format: 'HLSv3' | 'HLSv4' | 'Smooth' | 'MPEG-DASH';
  OutputKeys: string[];
  Status: EtJobStatus;
  StatusDetail?: string;
  /** With Key, KeyMd5 and InitializationVector always set: the job's own, or generated at CreateJob. */
  HlsContentProtection?: {
    Method: 'aes-128';
    Key: string;
    KeyMd5: string;
    InitializationVector: string;
    LicenseAcquisitionUrl?: string;
    KeyStoragePolicy: 'NoStore' | 'WithVariantPlaylists';
  };
  /** The key was generated: CreateJob's answer leaves it out (ReadJob shows it), as the service did. */
  KeyGenerated?: boolean;
}

// The engine's own tables, apart from the media pipeline's: one Postgres schema, one migration set.
export const transcoder = pgSchema('transcoder');

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const millis = (name: string) => bigint(name, { mode: 'number' });

export const pipelines = transcoder.table('pipelines', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  status: text('status').$type<'Active' | 'Paused'>().notNull().default('Active'),
  inputBucket: text('input_bucket').notNull(),
  outputBucket: text('output_bucket'),
  role: text('role').notNull(),
  awsKmsKeyArn: text('aws_kms_key_arn'),
  notifications: jsonb('notifications').$type<PipelineNotifications>().notNull(),
  contentConfig: jsonb('content_config').$type<PipelineOutputConfig>().notNull(),
  thumbnailConfig: jsonb('thumbnail_config').$type<PipelineOutputConfig>().notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const presets = transcoder.table('presets', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description'),
  container: text('container').notNull(),
  audio: jsonb('audio').$type<NonNullable<EtPreset['Audio']>>(),
  video: jsonb('video').$type<NonNullable<EtPreset['Video']>>(),
  thumbnails: jsonb('thumbnails').$type<NonNullable<EtPreset['Thumbnails']>>(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export type EtJobStatus = 'Submitted' | 'Progressing' | 'Complete' | 'Canceled' | 'Error';

export const jobs = transcoder.table(
  'jobs',
  {
    id: text('id').primaryKey(),
    pipelineId: text('pipeline_id').notNull(),
    status: text('status').$type<EtJobStatus>().notNull().default('Submitted'),
    input: jsonb('input').$type<JobInputSpec>().notNull(),
    outputKeyPrefix: text('output_key_prefix'),
    userMetadata: jsonb('user_metadata').$type<Record<string, string>>(),
    playlists: jsonb('playlists').$type<JobPlaylist[]>().notNull().default([]),
    detected: jsonb('detected').$type<Record<string, unknown>>(),
    /** 0..100 while Progressing (extension). */
    progress: integer('progress'),
    /** Job-level failure (e.g. 3001 input missing): the notification's errorCode/messageDetails. */
    errorCode: integer('error_code'),
    errorDetail: text('error_detail'),
    submitTimeMillis: millis('submit_time_millis').notNull(),
    startTimeMillis: millis('start_time_millis'),
    finishTimeMillis: millis('finish_time_millis'),
    /** The worker that holds the job while Progressing, and until when; a lapsed lease lets another take over. */
    leaseOwner: text('lease_owner'),
    leaseUntil: ts('lease_until'),
    attempts: integer('attempts').notNull().default(0),
  },
  (t) => [index('jobs_pipeline_idx').on(t.pipelineId, t.id), index('jobs_status_idx').on(t.status, t.id)],
);

export const jobOutputs = transcoder.table(
  'job_outputs',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    /** "1", "2", … in request order, as the service numbers them. */
    outputId: text('output_id').notNull(),
    position: integer('position').notNull(),
    spec: jsonb('spec').$type<CreateJobOutputSpec>().notNull(),
    key: text('key').notNull(),
    presetId: text('preset_id').notNull(),
    status: text('status').$type<EtJobStatus>().notNull().default('Submitted'),
    statusDetail: text('status_detail'),
    errorCode: integer('error_code'),
    duration: millis('duration'),
    durationMillis: millis('duration_millis'),
    width: integer('width'),
    height: integer('height'),
    fileSize: millis('file_size'),
    frameRate: text('frame_rate'),
    thumbnailKeys: jsonb('thumbnail_keys').$type<string[]>(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.outputId] })],
);

/** Outbox: one row per notification, written in the transaction that changed the job's state. */
export const messages = transcoder.table(
  'messages',
  {
    id: uuid('id').primaryKey(),
    jobId: text('job_id').notNull(),
    state: text('state').notNull(),
    topicArn: text('topic_arn').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('messages_job_idx').on(t.jobId)],
);

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One delivery of a message: to SNS (target 'sns') or to one subscriber URL. */
export const deliveries = transcoder.table(
  'deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    target: text('target').notNull(),
    status: text('status').$type<DeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    snsMessageId: text('sns_message_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [index('deliveries_pending_idx').on(t.status, t.createdAt)],
);

export type SubscriptionStatus = 'pending' | 'confirmed' | 'unsubscribed';

/** Direct-delivery subscriptions (topic ARN × URL), confirmed by a GET on the SubscribeURL, as SNS does. */
export const subscriptions = transcoder.table(
  'subscriptions',
  {
    arn: text('arn').primaryKey(),
    topicArn: text('topic_arn').notNull(),
    endpoint: text('endpoint').notNull(),
    status: text('status').$type<SubscriptionStatus>().notNull().default('pending'),
    token: text('token').notNull(),
    confirmationMessageId: uuid('confirmation_message_id').notNull(),
    confirmationSentAt: ts('confirmation_sent_at'),
    confirmedAt: ts('confirmed_at'),
  },
  (t) => [
    uniqueIndex('subscriptions_topic_endpoint').on(t.topicArn, t.endpoint),
    uniqueIndex('subscriptions_token').on(t.token),
  ],
);

/** The key every replica signs direct deliveries with, created once. */
export const signingIdentity = transcoder.table('signing_identity', {
  id: integer('id').primaryKey().default(1),
  privateKeyPem: text('private_key_pem').notNull(),
  certificatePem: text('certificate_pem').notNull(),
  createdAt: ts('created_at')
    .notNull()
    .default(sql`now()`),
});
