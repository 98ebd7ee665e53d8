import { z } from 'zod';
import { MetadataKey, type EtNotification, type EtNotificationOutput, type NotifyKind } from '@mp/contracts';
import type { OutputUpdate } from '@mp/db';

// Only what we read is checked; ET adds keys over the years (inputCount, playlists…), so unknown keys pass.
const size = z.number().nonnegative().optional();
const EtOutputSchema = z.looseObject({
  key: z.string().min(1),
  status: z.enum(['Submitted', 'Progressing', 'Complete', 'Warning', 'Error', 'Canceled']),
  statusDetail: z.string().optional(),
  errorCode: z.number().optional(),
  duration: size,
  durationMillis: size,
  width: size,
  height: size,
  fileSize: size,
});

const EtNotificationSchema = z.looseObject({
  state: z.enum(['PROGRESSING', 'COMPLETED', 'WARNING', 'ERROR']),
  version: z.string().default('2012-09-25'),
  jobId: z.string().min(1),
  pipelineId: z.string().default(''),
  outputKeyPrefix: z.string().optional(),
  outputs: z.array(EtOutputSchema).optional(),
  userMetadata: z.looseObject({
    [MetadataKey.mediaId]: z.uuid(),
    [MetadataKey.userId]: z.uuid(),
  }),
  errorCode: z.number().optional(),
  messageDetails: z.string().optional(),
  progress: z.number().optional(),
});

/**
 * Checks the fields this service reads (and the ids the dispatch worker puts in userMetadata).
 * Returns the first problem as a sentence when the message is not a usable ET notification.
 */
export function parseEtNotification(
  value: unknown,
): { ok: true; notification: EtNotification } | { ok: false; message: string } {
  const parsed = EtNotificationSchema.safeParse(value);
  if (parsed.success) return { ok: true, notification: parsed.data as EtNotification };
  const issue = parsed.error.issues[0]!;
  return { ok: false, message: `${issue.path.join('.') || 'message'}: ${issue.message}` };
}

/** Whether a decoded SNS Message looks like an ET job notification at all. */
export function looksLikeEtNotification(value: Record<string, unknown>): boolean {
  return 'state' in value && 'jobId' in value;
}

/** What one ET notification asks of the media row. */
export type MediaChange =
  | { status: 'processing'; progress: number | null }
  | { status: 'complete'; statusDetail: string | null }
  | { status: 'failed'; statusDetail: string };

export interface EtPlan {
  mediaId: string;
  userId: string;
  jobId: string;
  media: MediaChange;
  outputs: OutputUpdate[];
}

const MAX_DETAIL = 1000;

/** Maps an Elastic Transcoder job notification to the row updates it implies. */
export function planEtUpdate(n: EtNotification): EtPlan {
  const base = {
    mediaId: n.userMetadata![MetadataKey.mediaId]!,
    userId: n.userMetadata![MetadataKey.userId]!,
    jobId: n.jobId,
  };
  const outputs = n.outputs ?? [];
  const keyOf = (o: EtNotificationOutput) => (n.outputKeyPrefix ?? '') + o.key;

  switch (n.state) {
    case 'PROGRESSING':
      return {
        ...base,
        media: { status: 'processing', progress: n.progress === undefined ? null : clampPercent(n.progress) },
        outputs: outputs
          .filter((o) => o.status === 'Progressing' || o.status === 'Submitted')
          .map((o) => ({ s3Key: keyOf(o), status: 'progressing' })),
      };
    case 'COMPLETED':
    case 'WARNING':
      return {
        ...base,
        media: { status: 'complete', statusDetail: warningDetail(n) },
        outputs: outputs.map((o) =>
          o.status === 'Error' ? failedOutput(keyOf(o), o, 'The output failed.') : completedOutput(keyOf(o), o),
        ),
      };
    case 'ERROR': {
      const reason = failureReason(n);
      return {
        ...base,
        media: { status: 'failed', statusDetail: reason },
        // The job is over: an output that did not complete never will.
        outputs: outputs.map((o) =>
          o.status === 'Complete' ? completedOutput(keyOf(o), o) : failedOutput(keyOf(o), o, reason),
        ),
      };
    }
  }
}

/**
 * The notify a change is worth, given what the database says actually changed: none for a repeat or a
 * late message, progress only when the figure moved.
 */
export function notifyKindFor(
  change: MediaChange['status'],
  result: { statusChanged: boolean; progressChanged: boolean },
): NotifyKind | null {
  if (change === 'processing') {
    if (result.statusChanged) return 'media.processing';
    return result.progressChanged ? 'media.progress' : null;
  }
  if (!result.statusChanged) return null;
  return change === 'complete' ? 'media.complete' : 'media.failed';
}

/**
 * ET details read `"<code> <request uuid>: <text>"`; the request id means nothing to a user.
 * https://docs.aws.amazon.com/elastictranscoder/latest/developerguide/error-handling.html
 */
export function readableDetail(detail: string): string {
  const m = /^(\d{4})\s+[0-9a-fA-F][^\s:]*\s*:\s*([\s\S]*)$/.exec(detail.trim());
  const text = m ? `${m[2]!.trim()} (error ${m[1]})` : detail.trim();
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}

function failureReason(n: EtNotification): string {
  if (n.messageDetails?.trim()) return readableDetail(n.messageDetails);
  const details = unique(
    (n.outputs ?? [])
      .filter((o) => o.status === 'Error' && o.statusDetail?.trim())
      .map((o) => readableDetail(o.statusDetail!)),
  );
  if (details.length > 0) return readableDetail(details.join('; '));
  return n.errorCode === undefined ? 'Transcoding failed.' : `Transcoding failed (error ${n.errorCode}).`;
}

function warningDetail(n: EtNotification): string | null {
  const details = unique(
    (n.outputs ?? []).filter((o) => o.statusDetail?.trim()).map((o) => readableDetail(o.statusDetail!)),
  );
  if (n.messageDetails?.trim()) details.unshift(readableDetail(n.messageDetails));
  return details.length > 0 ? readableDetail(details.join('; ')) : null;
}

function completedOutput(s3Key: string, o: EtNotificationOutput): OutputUpdate {
  const durationMs = o.durationMillis ?? (o.duration === undefined ? undefined : o.duration * 1000);
  return {
    s3Key,
    status: 'complete',
    statusDetail: o.statusDetail ? readableDetail(o.statusDetail) : undefined,
    size: whole(o.fileSize),
    durationMs: whole(durationMs),
    width: whole(o.width),
    height: whole(o.height),
  };
}

function failedOutput(s3Key: string, o: EtNotificationOutput, fallback: string): OutputUpdate {
  return { s3Key, status: 'error', statusDetail: o.statusDetail ? readableDetail(o.statusDetail) : fallback };
}

function clampPercent(p: number): number {
  return Math.min(100, Math.max(0, Math.round(p)));
}

function whole(n: number | undefined): number | undefined {
  return n === undefined ? undefined : Math.round(n);
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
