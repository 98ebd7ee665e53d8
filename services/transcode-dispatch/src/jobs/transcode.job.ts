import type { Job } from 'bullmq';
import { UnrecoverableError, type Queue } from 'bullmq';
import type { S3Client } from '@aws-sdk/client-s3';
import { JobName, jobOptions, queuePolicies, type NotifyJob, type NotifyKind, type TranscodeJob } from '@mp/contracts';
import type { Media, MediaRepository, TranscodeJobRepository } from '@mp/db';
import type { Logger } from '@mp/logging';
import { baseName, outputPrefix } from '@mp/storage';
import { isPermanent, type Engine } from '../engine';
import { makeImageOutputs } from '../image';
import { planEngineOutputs, type Profile } from '../profile';

export interface TranscodeDeps {
  media: MediaRepository;
  jobs: TranscodeJobRepository;
  engine: Engine;
  s3: S3Client;
  bucket: string;
  profile: Profile;
  notify: Queue<NotifyJob>;
  tmpRoot?: string | undefined;
}

/**
 * `transcode` handler: audio and video become one engine job each (exactly one, even when retried or run
 * twice at once); images are resized here. The media row is re-read: the payload carries its id only.
 */
export async function handleTranscode(d: TranscodeDeps, job: Job<TranscodeJob>, log: Logger): Promise<string> {
  const media = await d.media.get(job.data.mediaId);
  if (!media) return 'media gone';
  if (media.status === 'complete' || media.status === 'failed') return `already ${media.status}`;
  try {
    if (media.kind === 'image') return await resizeImage(d, media, log);
    return await dispatchToEngine(d, media, log);
  } catch (err) {
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? queuePolicies.transcode.attempts);
    if (isPermanent(err) || err instanceof UnrecoverableError || finalAttempt) {
      const reason = (err as Error).message || 'The transcode could not be started.';
      log.warn({ mediaId: media.id, reason }, 'media failed');
      await d.jobs.markMediaFailed(media.id, reason);
      await notify(d, media.id, 'media.failed');
      throw new UnrecoverableError(reason);
    }
    throw err;
  }
}

async function dispatchToEngine(d: TranscodeDeps, media: Media, log: Logger): Promise<string> {
  const pipelineId = await d.engine.pipeline();
  const prefix = outputPrefix(media.userId, media.id);
  const planned = planEngineOutputs(d.profile, media.kind as 'audio' | 'video', baseName(media.name));
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
  await d.jobs.recordOutputs(
    made.map((m) => ({
      mediaId: media.id,
      format: m.format,
      s3Key: m.key,
      contentType: m.contentType,
      status: 'complete' as const,
      size: m.size,
      width: m.width,
      height: m.height,
    })),
  );
  await d.jobs.markMediaComplete(media.id);
  await notify(d, media.id, 'media.complete');
  log.info({ mediaId: media.id, outputs: made.length }, 'image outputs made');
  return 'image done';
}

async function notify(d: TranscodeDeps, mediaId: string, kind: NotifyKind): Promise<void> {
  await d.notify.add(JobName.notify, { mediaId, kind }, jobOptions('notify', `${kind}-${mediaId}`));
}
