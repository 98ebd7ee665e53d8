import { UnrecoverableError, type Job } from 'bullmq';
import { NotifyJob } from '@mp/contracts';
import type { Logger } from '@mp/logging';
import type { MediaNotices } from '../media-notices';
import type { NotifierMetrics } from '../metrics';
import { isStoredKind, notificationContent } from '../notification-text';
import { toDto, type NotificationsRepository } from '../notifications.repository';
import type { UserEvents } from '../user-events';

export interface NotifyDeps {
  media: MediaNotices;
  notifications: NotificationsRepository;
  events: UserEvents;
  metrics: NotifierMetrics;
}

export type NotifyOutcome = 'media-gone' | 'status-sent' | 'stored' | 'duplicate' | 're-sent';

/**
 * `notify`: re-read the media, then either store a notification for its owner and send it (complete, failed)
 * or send a live status (processing, progress).
 */
export function notifyHandler(deps: NotifyDeps) {
  return async (job: Job, log: Logger): Promise<NotifyOutcome> => {
    const payload = parsePayload(job.data);
    deps.metrics.observeQueueLag(Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp) / 1000);
    const outcome = await handle(payload, job.attemptsMade, deps);
    deps.metrics.jobs.inc({ kind: payload.kind, outcome });
    log.debug({ mediaId: payload.mediaId, kind: payload.kind, outcome }, 'notify handled');
    return outcome;
  };
}

async function handle({ mediaId, kind }: NotifyJob, attemptsMade: number, deps: NotifyDeps): Promise<NotifyOutcome> {
  const media = await deps.media.findNotice(mediaId);
  if (!media) return 'media-gone';

  if (!isStoredKind(kind)) {
    deps.events.mediaStatus(media.userId, { mediaId, status: media.status, progress: media.progress });
    return 'status-sent';
  }

  const content = notificationContent(kind, media);
  const { row, created } = await deps.notifications.insertOnce({ userId: media.userId, mediaId, ...content });
  // A retry may follow an attempt that stored but did not send, so it sends again (same id: clients key by it).
  // A first attempt that finds the row is a repeated event: already sent.
  if (!created && attemptsMade === 0) return 'duplicate';
  deps.events.notification(media.userId, toDto(row));
  return created ? 'stored' : 're-sent';
}

function parsePayload(data: unknown): NotifyJob {
  const parsed = NotifyJob.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`invalid notify payload: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
