import type { NotifyKind } from '@mp/contracts';

/** The kinds that are stored as notifications; the others are live status only. */
export const StoredKind = ['media.complete', 'media.failed'] as const;
export type StoredKind = (typeof StoredKind)[number];

export function isStoredKind(kind: NotifyKind): kind is StoredKind {
  return (StoredKind as readonly string[]).includes(kind);
}

const MAX_NAME = 200;
const MAX_REASON = 300;

export interface NotificationContent {
  kind: StoredKind;
  text: string;
  /** One notification per user and event: a retried or repeated job stores nothing twice. */
  dedupeKey: string;
}

/** What the owner reads when their file is done. */
export function notificationContent(
  kind: StoredKind,
  media: { id: string; name: string; statusDetail: string | null },
): NotificationContent {
  const name = clip(oneLine(media.name), MAX_NAME);
  const text =
    kind === 'media.complete'
      ? `Your file ${name} has been processed`
      : `Your file ${name} could not be processed: ${clip(oneLine(media.statusDetail ?? '') || 'unknown error', MAX_REASON)}`;
  return { kind, text, dedupeKey: `${kind}:${media.id}` };
}

function oneLine(s: string): string {
  // Control characters (newlines included) have no place in a one-line message.
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
