import { JobName, jobOptions, type NotifyJob, type NotifyKind } from '@mp/contracts';
import type { Db } from './client';
import type { DbTransaction } from './media.repository';
import { NotifyOutboxRepository, type OutboxEntry } from './notify-outbox.repository';
import type { NotifyOutboxRow } from './schema';

const ENQUEUE_TIMEOUT_MS = 2000;

/** What the outbox needs of a BullMQ `Queue<NotifyJob>`. */
export interface NotifyQueue {
  add(name: typeof JobName.notify, data: NotifyJob, opts: ReturnType<typeof jobOptions>): Promise<unknown>;
}

interface OutboxLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Transactional outbox for notify jobs, shared by every producer of `notify`. The entry is written in the
 * same transaction as the state change, so a committed change always has its notify: queued right after
 * commit, or by the sweep when Redis was down or the process died in between.
 */
export class NotifyOutbox {
  constructor(
    private readonly db: Db,
    private readonly queue: NotifyQueue,
    private readonly log: OutboxLog,
    /** False while Redis is known to be unreachable: entries then wait for the sweep without a timeout each. */
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

  /** Queues entries older than minAgeMs (left behind by a Redis outage or a crash). Returns how many were queued. */
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
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.add(JobName.notify, payload, jobOptions('notify', row.jobId)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
        }),
      ]);
      return true;
    } catch (err) {
      this.log.warn(
        { mediaId: row.mediaId, kind: row.kind, err: (err as Error).message },
        'notify not queued; kept in the outbox',
      );
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
