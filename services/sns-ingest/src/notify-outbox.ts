import type { Queue } from 'bullmq';
import { JobName, jobOptions, type NotifyJob, type NotifyKind } from '@mp/contracts';
import type { Db, DbTransaction } from '@mp/db';
import type { Logger } from '@mp/logging';
import { withTimeout } from '@mp/runtime';
import type { NotifyOutboxRow } from './db/schema';
import { NotifyOutboxRepository, type OutboxEntry } from './notify-outbox.repository';

const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * BullMQ job id of a notify. Terminal kinds happen once per media. Progress repeats, so its id carries the
 * figure: a redelivered or swept entry adds no second job, a new figure does.
 */
export function notifyJobId(mediaId: string, kind: NotifyKind, progress: number | null): string {
  return kind === 'media.progress' ? `${kind}-${mediaId}-${progress ?? 0}` : `${kind}-${mediaId}`;
}

/**
 * Transactional outbox for notify jobs. The entry is written in the same transaction as the state change,
 * so a committed change always has its notify: queued right after commit, or by the sweep when Redis was down.
 */
export class NotifyOutbox {
  constructor(
    private readonly db: Db,
    private readonly queue: Queue<NotifyJob>,
    private readonly log: Logger,
    /** False while Redis is known to be unreachable: entries then wait for the sweep without a timeout per delivery. */
    private readonly redisReady: () => boolean = () => true,
  ) {}

  /** Records a notify inside the caller's transaction. */
  add(tx: DbTransaction, entry: OutboxEntry): Promise<NotifyOutboxRow> {
    return new NotifyOutboxRepository(tx).add(entry);
  }

  /** Queues committed entries now; what fails stays in the outbox for the sweep. */
  async flush(rows: readonly NotifyOutboxRow[]): Promise<void> {
    const done: number[] = [];
    for (const row of rows) {
      if (!(await this.enqueue(row))) break;
      done.push(row.id);
    }
    await new NotifyOutboxRepository(this.db).remove(done);
  }

  /** Queues entries older than minAgeMs (left behind by a Redis outage). Returns how many were queued. */
  async sweep(minAgeMs: number, limit = 100): Promise<number> {
    return this.db.transaction(async (tx) => {
      const repo = new NotifyOutboxRepository(tx);
      const rows = await repo.lockDue(new Date(Date.now() - minAgeMs), limit);
      const done: number[] = [];
      for (const row of rows) {
        if (!(await this.enqueue(row))) break;
        done.push(row.id);
      }
      await repo.remove(done);
      return done.length;
    });
  }

  private async enqueue(row: NotifyOutboxRow): Promise<boolean> {
    const payload: NotifyJob = { mediaId: row.mediaId, kind: row.kind as NotifyKind };
    if (!this.redisReady()) {
      this.log.warn({ mediaId: row.mediaId, kind: row.kind }, 'Redis unavailable; notify kept in the outbox');
      return false;
    }
    try {
      await withTimeout(this.queue.add(JobName.notify, payload, jobOptions('notify', row.jobId)), ENQUEUE_TIMEOUT_MS);
      return true;
    } catch (err) {
      this.log.warn({ mediaId: row.mediaId, kind: row.kind, err: (err as Error).message }, 'notify not queued; kept in the outbox');
      return false;
    }
  }
}
