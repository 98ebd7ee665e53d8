import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { S3Client } from '@aws-sdk/client-s3';
import { notifyJobId, queuePolicies, type NotifyKind, type TranscodeJob } from '@mp/contracts';
import {
  MediaRepository,
  TranscodeJobRepository,
  lockMedia,
  type Db,
  type DbTransaction,
  type Media,
  type MediaTombstonesRepository,
  type NewOutput,
  type NotifyOutbox,
  type NotifyOutboxRow,
} from '@mp/db';
import type { Logger } from '@mp/logging';
import { baseName, deleteKeys, outputPrefix } from '@mp/storage';
import { isPermanent, type Engine } from '../engine';
import { makeImageOutputs, type MadeImage } from '../image';
import { planEngineOutputs, planPlaylists, type Profile } from '../profile';

export interface TranscodeDeps {
  db: Db;
  media: MediaRepository;
  jobs: TranscodeJobRepository;
  tombstones: MediaTombstonesRepository;
  engine: Engine;
  s3: S3Client;
  bucket: string;
  profile: Profile;
  /** Every notify is written here in the state change's transaction, then queued. */
  outbox: NotifyOutbox;
  tmpRoot?: string | undefined;
}

/**
 * `transcode` handler: audio and video become one engine job each (exactly one, even when retried or run
 * twice at once); images are resized here. The media row is re-read: the payload carries its id only.
 */
export async function handleTranscode(d: TranscodeDeps, job: Job<TranscodeJob>, log: Logger): Promise<string> {
  const media = await d.media.get(job.data.mediaId);
  if (!media) return mediaGone(d, job.data.mediaId, log);
  if (media.status === 'complete' || media.status === 'failed') return `already ${media.status}`;
  try {
    if (media.kind === 'image') return await resizeImage(d, media, log);
    return await dispatchToEngine(d, media, log);
  } catch (err) {
    // Deleted while this ran (its rows went with it): nothing to report, and what was made is purged.
    if (!(await d.media.get(media.id))) return mediaGone(d, media.id, log);
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? queuePolicies.transcode.attempts);
    if (isPermanent(err) || err instanceof UnrecoverableError || finalAttempt) {
      const reason = (err as Error).message || 'The transcode could not be started.';
      log.warn({ mediaId: media.id, reason }, 'media failed');
      await changeAndNotify(d, media.id, 'media.failed', (tx) =>
        new TranscodeJobRepository(tx).markMediaFailed(media.id, reason),
      );
      throw new UnrecoverableError(reason);
    }
    throw err;
  }
}

async function dispatchToEngine(d: TranscodeDeps, media: Media, log: Logger): Promise<string> {
  const pipelineId = await d.engine.pipeline();
  const prefix = outputPrefix(media.userId, media.id);
  const kind = media.kind as 'audio' | 'video';
  const planned = planEngineOutputs(d.profile, kind, baseName(media.name));
  await d.jobs.recordIntent(media.id, 'elastic-transcoder', pipelineId);
  await d.jobs.recordOutputs(
    planned.map((o) => ({
      mediaId: media.id,
      format: o.format,
      presetId: o.presetId,
      s3Key: prefix + o.key,
      contentType: o.contentType,
      status: 'pending' as const,
    })),
  );
  const engineJobId = await d.jobs.withMediaLock(media.id, async (row, tx) => {
    if (row.engineJobId) return row.engineJobId;
    if (row.state === 'calling') {
      // A previous attempt may have created the job and died before recording it.
      const earlier = await d.engine.findJobForMedia(pipelineId, media.id, row.createdAt);
      if (earlier?.Id) {
        log.info({ engineJobId: earlier.Id }, 'reconciled an engine job created by an earlier attempt');
        await d.jobs.recordEngineJob(tx, row.id, earlier.Id);
        return earlier.Id;
      }
    }
    await d.jobs.markCalling(row.id);
    const id = await d.engine.createJob({
      pipelineId,
      inputKey: media.s3Key,
      outputKeyPrefix: prefix,
      outputs: planned,
      playlists: planPlaylists(d.profile, kind, planned),
      mediaId: media.id,
      userId: media.userId,
    });
    await d.jobs.recordEngineJob(tx, row.id, id);
    return id;
  });
  await d.jobs.markMediaProcessing(media.id);
  log.info({ mediaId: media.id, engineJobId }, 'engine job created');
  return engineJobId;
}

async function resizeImage(d: TranscodeDeps, media: Media, log: Logger): Promise<string> {
  const made = await makeImageOutputs({
    s3: d.s3,
    bucket: d.bucket,
    inputKey: media.s3Key,
    outputPrefix: outputPrefix(media.userId, media.id),
    base: baseName(media.name),
    outputs: d.profile.image,
    tmpRoot: d.tmpRoot,
  }).catch((err: Error) => {
    throw new UnrecoverableError(`The image could not be processed: ${err.message}`);
  });
  const recorded = await changeAndNotify(d, media.id, 'media.complete', (tx) => recordImages(tx, media.id, made));
  if (recorded === 'media gone') {
    // Deleted during the resize: the delete could not see these objects, so they go here.
    await deleteKeys(
      d.s3,
      d.bucket,
      made.map((m) => m.key),
    );
    return mediaGone(d, media.id, log);
  }
  log.info({ mediaId: media.id, outputs: made.length }, 'image outputs made');
  return 'image done';
}

/**
 * The images' rows and the media's completion, under the media's lock so that a delete either comes first
 * (the media is gone here) or sees these outputs. True when the media changed.
 */
async function recordImages(tx: DbTransaction, mediaId: string, made: MadeImage[]): Promise<boolean | 'media gone'> {
  await lockMedia(tx, mediaId);
  if (!(await new MediaRepository(tx).get(mediaId))) return 'media gone';
  const jobs = new TranscodeJobRepository(tx);
  await jobs.recordOutputs(
    made.map((m): NewOutput => ({
      mediaId,
      format: m.format,
      s3Key: m.key,
      contentType: m.contentType,
      status: 'complete',
      size: m.size,
      width: m.width,
      height: m.height,
    })),
  );
  return jobs.markMediaComplete(mediaId);
}

/**
 * Applies a state change and, when it changed something, writes its notify to the outbox in the same
 * transaction; the notify is queued after commit, or by the outbox sweep if that fails.
 */
async function changeAndNotify<T>(
  d: TranscodeDeps,
  mediaId: string,
  kind: NotifyKind,
  change: (tx: DbTransaction) => Promise<T>,
): Promise<T> {
  const { result, row } = await d.db.transaction(async (tx) => {
    const result = await change(tx);
    const row: NotifyOutboxRow | null =
      result === true ? await d.outbox.add(tx, { mediaId, kind, jobId: notifyJobId(mediaId, kind) }) : null;
    return { result, row };
  });
  if (row) await d.outbox.flush([row]);
  return result;
}

/** A job for a deleted media makes nothing; if it had made something, the media's purge is due again. */
async function mediaGone(d: TranscodeDeps, mediaId: string, log: Logger): Promise<string> {
  if (await d.tombstones.wake(mediaId)) log.info({ mediaId }, 'media deleted; its purge is due');
  return 'media gone';
}
