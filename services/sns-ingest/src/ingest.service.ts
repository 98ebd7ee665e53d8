import type { S3Client } from '@aws-sdk/client-s3';
import type { Queue } from 'bullmq';
import {
  AppError,
  notifyJobId,
  type MediaKind,
  type S3EventRecord,
  type SnsEnvelope,
  type TranscodeJob,
} from '@mp/contracts';
import {
  MediaRepository,
  MediaTombstonesRepository,
  UsersRepository,
  type Db,
  type DbTransaction,
  type NotifyOutbox,
  type NotifyOutboxRow,
} from '@mp/db';
import type { FastifyBaseLogger } from 'fastify';
import { enqueueTranscode } from '@mp/runtime';
import { headObject } from '@mp/storage';
import { urlHostAllowed, type UrlPolicy } from '@mp/sns';
import {
  looksLikeEtNotification,
  notifyKindFor,
  parseEtNotification,
  planEtUpdate,
  type EtPlan,
  type MediaChange,
} from './et-notification';
import { mediaTypeOf, parseS3Records, s3MessageKind, uploadCandidates, type UploadCandidate } from './s3-event';
import { SnsMessagesRepository } from './sns-messages.repository';

type Logger = Pick<FastifyBaseLogger, 'info' | 'warn'>;

/** What became of a delivery; the route answers it and counts it. */
export type Outcome = 'processed' | 'duplicate' | 'ignored' | 'confirmed' | 'unsubscribed';

export interface IngestDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  transcodeQueue: Queue<TranscodeJob>;
  outbox: NotifyOutbox;
  urlPolicy: UrlPolicy;
  fetchTimeoutMs: number;
  /** False while Redis is known to be unreachable, so a delivery does not wait for a queue timeout. */
  redisReady: () => boolean;
}

const ENQUEUE_TIMEOUT_MS = 2000;

interface TypedUpload extends UploadCandidate {
  kind: MediaKind;
  contentType: string;
  size: number;
}

/**
 * One verified SNS delivery, end to end. Each message is recorded by MessageId in the same transaction
 * as the change it causes, so a redelivery is answered and not applied twice; queues are fed after commit.
 */
export class IngestService {
  constructor(private readonly d: IngestDeps) {}

  async handle(envelope: SnsEnvelope, log: Logger): Promise<Outcome> {
    switch (envelope.Type) {
      case 'SubscriptionConfirmation':
        return this.confirmSubscription(envelope, log);
      case 'UnsubscribeConfirmation':
        return this.noteUnsubscribe(envelope, log);
      case 'Notification':
        return this.handleNotification(envelope, log);
    }
  }

  private async handleNotification(envelope: SnsEnvelope, log: Logger): Promise<Outcome> {
    const message = decodeMessage(envelope.Message);
    if (looksLikeEtNotification(message)) {
      const parsed = parseEtNotification(message);
      if (!parsed.ok)
        throw new AppError(400, 'SNS_BAD_MESSAGE', `Not a usable Elastic Transcoder notification: ${parsed.message}.`);
      return this.applyEtNotification(envelope, planEtUpdate(parsed.notification), log);
    }
    switch (s3MessageKind(message)) {
      case 'test':
        log.info({ messageId: envelope.MessageId }, 's3:TestEvent ignored');
        return (await this.recordOnly(envelope)) ? 'ignored' : 'duplicate';
      case 'records': {
        const parsed = parseS3Records(message);
        if (!parsed.ok) throw new AppError(400, 'SNS_BAD_MESSAGE', `Not a usable S3 event: ${parsed.message}.`);
        return this.ingestUploads(envelope, parsed.records, log);
      }
      default:
        throw new AppError(
          400,
          'SNS_UNKNOWN_MESSAGE',
          'The Message is neither an Elastic Transcoder notification nor an S3 event.',
        );
    }
  }

  /** ET job state → media and outputs rows, and a notify for the owner when something visible changed. */
  private async applyEtNotification(envelope: SnsEnvelope, plan: EtPlan, log: Logger): Promise<Outcome> {
    const result = await this.d.db.transaction(async (tx) => {
      if (!(await new SnsMessagesRepository(tx).record(envelope))) return { outcome: 'duplicate' as const };
      const repo = new MediaRepository(tx);
      const media = await repo.get(plan.mediaId);
      if (!media) return { outcome: 'ignored' as const, purge: await wakePurgeOfDeleted(tx, plan) };
      if (media.userId !== plan.userId) return { outcome: 'ignored' as const };
      const changed = await applyMediaChange(repo, plan.mediaId, plan.media);
      await repo.updateOutputs(plan.mediaId, plan.outputs);
      const kind = notifyKindFor(plan.media.status, changed);
      const notify = kind ? await this.queueNotifyInTx(tx, plan, kind) : null;
      return { outcome: 'processed' as const, notify };
    });
    log.info(
      { mediaId: plan.mediaId, jobId: plan.jobId, state: plan.media.status, outcome: result.outcome },
      'ET notification',
    );
    if ('purge' in result && result.purge)
      log.info({ mediaId: plan.mediaId, jobId: plan.jobId }, 'engine job of a deleted media ended; its purge is due');
    if (result.outcome === 'processed' && result.notify) await this.d.outbox.flush([result.notify]);
    return result.outcome;
  }

  private queueNotifyInTx(
    tx: DbTransaction,
    plan: EtPlan,
    kind: NonNullable<ReturnType<typeof notifyKindFor>>,
  ): Promise<NotifyOutboxRow> {
    const progress = plan.media.status === 'processing' ? plan.media.progress : null;
    return this.d.outbox.add(tx, { mediaId: plan.mediaId, kind, jobId: notifyJobId(plan.mediaId, kind, progress) });
  }

  /**
   * Direct-to-S3 uploads: a media row per new object under media/<userId>/<mediaId>/, then a transcode job.
   * If Redis is down the row keeps enqueued_at null and the gateway's sweep queues it.
   */
  private async ingestUploads(envelope: SnsEnvelope, records: S3EventRecord[], log: Logger): Promise<Outcome> {
    const { uploads, ignored } = uploadCandidates(records, this.d.bucket);
    for (const r of ignored) log.info({ key: r.key, reason: r.reason }, 'S3 record ignored');
    // A redelivery is answered before any S3 request.
    if (await new SnsMessagesRepository(this.d.db).seen(envelope.MessageId)) return 'duplicate';
    const typed = await this.typeUploads(uploads, log);

    const recorded = await this.d.db.transaction(async (tx) => {
      if (!(await new SnsMessagesRepository(tx).record(envelope))) return null;
      const rows = [];
      for (const upload of typed) {
        const media = await recordUpload(tx, upload, log);
        if (media) rows.push(media);
      }
      return rows;
    });
    if (recorded === null) return 'duplicate';
    for (const media of recorded) {
      if (media.enqueuedAt === null) await this.enqueueTranscode(media.id, log);
    }
    return recorded.length > 0 ? 'processed' : 'ignored';
  }

  /** HeadObject each upload for its type and size; objects gone or not media are dropped. */
  private async typeUploads(uploads: UploadCandidate[], log: Logger): Promise<TypedUpload[]> {
    const typed: TypedUpload[] = [];
    for (const upload of uploads) {
      const head = await this.uploadedObject(upload.key);
      if (!head) {
        log.info({ key: upload.key }, 'uploaded object no longer exists');
        continue;
      }
      const type = mediaTypeOf(head.contentType, upload.name);
      if (!type) {
        log.info({ key: upload.key, contentType: head.contentType }, 'uploaded object is not audio, video or an image');
        continue;
      }
      typed.push({ ...upload, ...type, size: head.size ?? upload.size ?? 0 });
    }
    return typed;
  }

  /** The upload's type and size as S3 has it; null when the object is gone. */
  private async uploadedObject(
    key: string,
  ): Promise<{ contentType: string | undefined; size: number | undefined } | null> {
    let head: Awaited<ReturnType<typeof headObject>>;
    try {
      head = await headObject(this.d.s3, this.d.bucket, key);
    } catch {
      throw new AppError(503, 'S3_UNAVAILABLE', 'Could not read the uploaded object; SNS will deliver again.');
    }
    return head ? { contentType: head.ContentType, size: head.ContentLength } : null;
  }

  private async enqueueTranscode(mediaId: string, log: Logger): Promise<void> {
    const markEnqueued = (id: string) => new MediaRepository(this.d.db).markEnqueued(id);
    await enqueueTranscode(
      { queue: this.d.transcodeQueue, log, markEnqueued, redisReady: this.d.redisReady, timeoutMs: ENQUEUE_TIMEOUT_MS },
      mediaId,
    );
  }

  /** GETs the SubscribeURL (already checked to be on an allowed host), then records the message. */
  private async confirmSubscription(envelope: SnsEnvelope, log: Logger): Promise<Outcome> {
    const url = envelope.SubscribeURL ?? '';
    if (!urlHostAllowed(url, this.d.urlPolicy)) {
      throw new AppError(403, 'SNS_SUBSCRIBE_URL_HOST', 'The SubscribeURL is not on an allowed host.');
    }
    if (await new SnsMessagesRepository(this.d.db).seen(envelope.MessageId)) return 'duplicate';
    let status: number;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.d.fetchTimeoutMs), redirect: 'error' });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
    } catch (err) {
      throw new AppError(502, 'SNS_CONFIRM_FAILED', `Confirming the subscription failed: ${(err as Error).message}.`);
    }
    if (status < 200 || status >= 300) {
      throw new AppError(502, 'SNS_CONFIRM_FAILED', `Confirming the subscription answered HTTP ${status}.`);
    }
    await this.recordOnly(envelope);
    log.info({ topicArn: envelope.TopicArn }, 'SNS subscription confirmed');
    return 'confirmed';
  }

  private async noteUnsubscribe(envelope: SnsEnvelope, log: Logger): Promise<Outcome> {
    log.warn({ topicArn: envelope.TopicArn, messageId: envelope.MessageId }, 'SNS subscription removed');
    return (await this.recordOnly(envelope)) ? 'unsubscribed' : 'duplicate';
  }

  private recordOnly(envelope: SnsEnvelope): Promise<boolean> {
    return new SnsMessagesRepository(this.d.db).record(envelope);
  }
}

/**
 * The engine job of a deleted media has ended, so whatever it wrote is in S3: its tombstone is due, in the
 * message's transaction, and the dispatch purge removes the objects.
 */
async function wakePurgeOfDeleted(tx: DbTransaction, plan: EtPlan): Promise<boolean> {
  if (plan.media.status === 'processing') return false;
  return new MediaTombstonesRepository(tx).wake(plan.mediaId, plan.userId);
}

async function applyMediaChange(
  repo: MediaRepository,
  mediaId: string,
  change: MediaChange,
): Promise<{ statusChanged: boolean; progressChanged: boolean }> {
  if (change.status === 'processing') return repo.markProcessing(mediaId, change.progress);
  const statusChanged = await repo.markFinished(mediaId, change.status, change.statusDetail);
  return { statusChanged, progressChanged: false };
}

/** Finds or creates the media row of an upload; null when the key does not belong to a known user's media. */
async function recordUpload(tx: DbTransaction, upload: TypedUpload, log: Logger) {
  if (!(await new UsersRepository(tx).exists(upload.userId))) {
    log.info({ key: upload.key }, 'upload for an unknown user ignored');
    return null;
  }
  // A deleted media does not come back: its object, if it is still there, goes with the purge.
  if (await new MediaTombstonesRepository(tx).wake(upload.mediaId, upload.userId)) {
    log.info({ key: upload.key, mediaId: upload.mediaId }, 'upload of a deleted media ignored; its purge is due');
    return null;
  }
  const repo = new MediaRepository(tx);
  const existing = await repo.get(upload.mediaId);
  if (existing) {
    if (existing.s3Key === upload.key) return existing;
    log.warn({ key: upload.key, mediaId: upload.mediaId }, 'media id already used by another key; ignored');
    return null;
  }
  const { media } = await repo.insertOrGetByKey({
    id: upload.mediaId,
    userId: upload.userId,
    name: upload.name,
    kind: upload.kind,
    contentType: upload.contentType,
    size: upload.size,
    s3Key: upload.key,
    source: 's3-event',
  });
  return media;
}

function decodeMessage(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError(400, 'SNS_BAD_MESSAGE', 'The Message is not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError(400, 'SNS_BAD_MESSAGE', 'The Message is not a JSON object.');
  }
  return value as Record<string, unknown>;
}
