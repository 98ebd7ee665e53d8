/**
 * The life of one dropped file, keyed by its SHA-256 so that a restart (or the same bytes dropped again)
 * never uploads it twice. Before a record exists a file is only `seen`, then `stable` (see scan-rules.ts):
 *
 *   uploading ─uploaded→ waiting ─completed→ downloading ─downloaded→ done
 *       └─────────── failed | error (attempts exhausted) | timed-out ──────→ failed
 *
 * `done` and `failed` are then `settled` once the source has been removed, archived or moved aside.
 * Pure: every function returns a new record.
 */
export const Phase = ['uploading', 'waiting', 'downloading', 'done', 'failed'] as const;
export type Phase = (typeof Phase)[number];

export interface FileRecord {
  sha256: string;
  /** The file's name in the drop folder. */
  name: string;
  size: number;
  mtimeMs: number;
  phase: Phase;
  mediaId: string | null;
  /** Failed tries of the current step; reset when the phase advances. */
  attempts: number;
  /** No new try before this time (epoch ms). */
  retryAt: number | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  /** When the gateway accepted the upload: the completion timeout counts from here, across restarts. */
  waitingSince: number | null;
  /** Paths written under the output folder. */
  outputs: string[];
  /** The source has been removed, archived or moved aside: nothing is left to do. */
  settled: boolean;
}

export type FileEvent =
  | { type: 'uploaded'; mediaId: string }
  | { type: 'completed' }
  | { type: 'downloaded'; outputs: string[] }
  | { type: 'settled' }
  /** Will not get better by trying again (415, media failed, media deleted). */
  | { type: 'failed'; reason: string }
  /** May pass on another try (network, 5xx): retried later until MAX_ATTEMPTS. */
  | { type: 'error'; reason: string }
  | { type: 'timed-out'; timeoutMs: number };

export interface RetryPolicy {
  maxAttempts: number;
  /** Delay before the second try; doubles after each failure, up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
}

const ALLOWED: Record<FileEvent['type'], readonly Phase[]> = {
  uploaded: ['uploading'],
  completed: ['waiting'],
  downloaded: ['downloading'],
  settled: ['done', 'failed'],
  failed: ['uploading', 'waiting', 'downloading'],
  error: ['uploading', 'downloading'],
  'timed-out': ['waiting'],
};

export function newRecord(
  file: { sha256: string; name: string; size: number; mtimeMs: number },
  now: number,
): FileRecord {
  return {
    ...file,
    phase: 'uploading',
    mediaId: null,
    attempts: 0,
    retryAt: null,
    error: null,
    createdAt: now,
    updatedAt: now,
    waitingSince: null,
    outputs: [],
    settled: false,
  };
}

export function transition(rec: FileRecord, ev: FileEvent, now: number, policy: RetryPolicy): FileRecord {
  if (!ALLOWED[ev.type].includes(rec.phase) || rec.settled) {
    throw new Error(`event ${ev.type} is not allowed in phase ${rec.phase}${rec.settled ? ' (settled)' : ''}`);
  }
  const at = { ...rec, updatedAt: now };
  switch (ev.type) {
    case 'uploaded':
      return advance(at, 'waiting', { mediaId: ev.mediaId, waitingSince: now });
    case 'completed':
      return advance(at, 'downloading');
    case 'downloaded':
      return advance(at, 'done', { outputs: ev.outputs });
    case 'settled':
      return { ...at, settled: true };
    case 'failed':
      return fail(at, ev.reason);
    case 'timed-out':
      return fail(at, `the media did not complete within ${Math.round(ev.timeoutMs / 1000)} s`);
    case 'error': {
      const attempts = rec.attempts + 1;
      if (attempts >= policy.maxAttempts)
        return fail({ ...at, attempts }, `gave up after ${attempts} attempts: ${ev.reason}`);
      return { ...at, attempts, error: ev.reason, retryAt: now + retryDelay(attempts, policy) };
    }
  }
}

function advance(rec: FileRecord, phase: Phase, extra: Partial<FileRecord> = {}): FileRecord {
  return { ...rec, ...extra, phase, attempts: 0, retryAt: null, error: null };
}

function fail(rec: FileRecord, reason: string): FileRecord {
  return { ...rec, phase: 'failed', retryAt: null, error: reason };
}

export function retryDelay(attempts: number, policy: RetryPolicy): number {
  return Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

export type Action = 'upload' | 'download' | 'check-timeout' | 'settle' | 'none';

/** What to do for a record now. Waiting records are otherwise moved on by completion events. */
export function nextAction(rec: FileRecord, now: number, completionTimeoutMs: number): Action {
  if (rec.retryAt !== null && rec.retryAt > now) return 'none';
  switch (rec.phase) {
    case 'uploading':
      return 'upload';
    case 'waiting':
      return now - (rec.waitingSince ?? rec.updatedAt) >= completionTimeoutMs ? 'check-timeout' : 'none';
    case 'downloading':
      return 'download';
    case 'done':
    case 'failed':
      return rec.settled ? 'none' : 'settle';
  }
}

export type Found = 'start' | 'duplicate' | 'in-progress';

/**
 * A stable file whose checksum is `rec`'s (or no record's). Bytes already processed are a duplicate: disposed
 * of without upload. Bytes that failed and were moved aside, then dropped again, get a fresh start: putting a
 * file back is how a person asks for another try. Otherwise the record's own flow is under way.
 */
export function whenFound(rec: FileRecord | undefined): Found {
  if (!rec) return 'start';
  if (rec.settled && rec.phase === 'done') return 'duplicate';
  if (rec.settled && rec.phase === 'failed') return 'start';
  return 'in-progress';
}
