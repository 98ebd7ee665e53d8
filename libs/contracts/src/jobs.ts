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

/** Job names: exactly one handler each, checked at worker start. */
export const JobName = {
  transcode: 'media.transcode',
  notify: 'media.notify',
} as const;

/** A stable BullMQ job id for a media's transcode: one queued job per media at a time. */
export const transcodeJobId = (mediaId: string) => `transcode-${mediaId}`;

/**
 * BullMQ job id of a notify. Terminal kinds happen once per media. Progress repeats, so its id carries the
 * figure: a redelivered or swept outbox entry adds no second job, a new figure does.
 */
export function notifyJobId(mediaId: string, kind: NotifyKind, progress: number | null = null): string {
  return kind === 'media.progress' ? `${kind}-${mediaId}-${progress ?? 0}` : `${kind}-${mediaId}`;
}
