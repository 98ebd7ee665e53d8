import { saysUnreadable, type NotifyKind } from '@mp/contracts';

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

/**
 * What the owner reads when their file is done: in words, with the name as they gave it. A failure says what
 * happened and where to look; the engine's own text (a vendor's message, an error code) stays in the media's
 * detail, shown on demand.
 */
export function notificationContent(
  kind: StoredKind,
  media: { id: string; name: string; kind?: string; statusDetail: string | null },
): NotificationContent {
  const name = clip(oneLine(media.name), MAX_NAME);
  const reason = oneLine(media.statusDetail ?? '').slice(0, MAX_REASON);
  const unreadable = saysUnreadable(reason);
  const what = media.kind === 'image' ? 'an image' : media.kind === 'audio' ? 'audio' : 'audio or video';
  const text =
    kind === 'media.complete'
      ? `Your file ${name} has been processed`
      : unreadable
        ? `Your file ${name} could not be processed: it could not be read as ${what}. Open it for details.`
        : `Your file ${name} could not be processed. Open it for details.`;
  return { kind, text, dedupeKey: `${kind}:${media.id}` };
}

function oneLine(s: string): string {
  // Control characters (newlines included) have no place in a one-line message.
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
