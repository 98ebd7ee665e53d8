import { z } from 'zod';

// Job payloads carry ids only: a handler re-reads Postgres, so a retry sees current state.
export const TranscodeJob = z.object({ mediaId: z.uuid() });
export type TranscodeJob = z.infer<typeof TranscodeJob>;

export const NotifyKind = z.enum(['media.processing', 'media.progress', 'media.complete', 'media.failed']);
export type NotifyKind = z.infer<typeof NotifyKind>;

/**
 * `notify` carries the media id and what happened. `media.processing` and `media.progress` become live
 * status events only; `media.complete` and `media.failed` become stored notifications.
 */
export const NotifyJob = z.object({ mediaId: z.uuid(), kind: NotifyKind });
export type NotifyJob = z.infer<typeof NotifyJob>;

/** The engine's own jobs: one Elastic Transcoder job to run, one notification delivery to make. */
export const EtTranscodeJob = z.object({ jobId: z.string().min(1) });
export type EtTranscodeJob = z.infer<typeof EtTranscodeJob>;
export const EtDeliverJob = z.object({ deliveryId: z.string().min(1) });
export type EtDeliverJob = z.infer<typeof EtDeliverJob>;

/** Job names: exactly one handler each, checked at worker start. */
export const JobName = {
  transcode: 'media.transcode',
  notify: 'media.notify',
  etTranscode: 'et.transcode',
  etDeliver: 'et.deliver',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

/** The payload of each job name: a handler for `N` receives a `JobOf<N>`. */
export interface JobPayloadMap {
  'media.transcode': TranscodeJob;
  'media.notify': NotifyJob;
  'et.transcode': EtTranscodeJob;
  'et.deliver': EtDeliverJob;
}
export type JobOf<N extends JobName> = JobPayloadMap[N];

/** A stable BullMQ job id for a media's transcode: one queued job per media at a time. */
export const transcodeJobId = (mediaId: string) => `transcode-${mediaId}`;

/** One BullMQ entry per Elastic Transcoder job / per delivery: re-adding an id already queued does nothing. */
export const etTranscodeJobId = (jobId: string) => `et-${jobId}`;
export const etDeliverJobId = (deliveryId: string) => `delivery-${deliveryId}`;

/**
 * BullMQ job id of a notify. Terminal kinds happen once per media. Progress repeats, so its id carries the
 * figure: a redelivered or swept outbox entry adds no second job, a new figure does.
 */
export function notifyJobId(mediaId: string, kind: NotifyKind, progress: number | null = null): string {
  return kind === 'media.progress' ? `${kind}-${mediaId}-${progress ?? 0}` : `${kind}-${mediaId}`;
}
