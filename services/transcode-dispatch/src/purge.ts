import type { S3Client } from '@aws-sdk/client-s3';
import type { MediaTombstone, MediaTombstonesRepository } from '@mp/db';
import type { Logger } from '@mp/logging';
import { deleteKeys, listKeys, mediaKey, outputPrefix } from '@mp/storage';
import type { Engine } from './engine';

/** Engine job states after which nothing more is written for it. */
const ENDED = new Set(['Complete', 'Error', 'Canceled', 'missing']);

export interface PurgeDeps {
  tombstones: MediaTombstonesRepository;
  engine: Pick<Engine, 'cancelIfSubmitted' | 'findJobForMedia'>;
  s3: S3Client;
  bucket: string;
  retryMs: number;
  retentionMs: number;
  log: Logger;
}

type PurgeOutcome = 'purged' | 'engine job running';

/** Both prefixes of a media: the upload's (`media/<user>/<media>/`) and the outputs' (`transcoded/…`). */
function mediaPrefixes(userId: string, mediaId: string): [string, string] {
  // mediaKey checks the ids; the prefix is the key without its last segment.
  return [mediaKey(userId, mediaId, 'x').slice(0, -1), outputPrefix(userId, mediaId)];
}

/**
 * Deleted media, from their tombstones: cancel the engine job while it is still Submitted, remove every
 * object under the media's prefixes, and call it done once the engine job has ended (until then, every
 * retry removes what has appeared). Each step is idempotent; a purger that dies leaves the tombstone due.
 */
export class MediaPurge {
  constructor(private readonly d: PurgeDeps) {}

  /** Purges the tombstones that are due (all, or one media's). Returns how many were purged for good. */
  async sweep(opts: { limit?: number; mediaId?: string } = {}): Promise<number> {
    await this.d.tombstones.expire(new Date(Date.now() - this.d.retentionMs));
    const claimed = await this.d.tombstones.claimDue(this.d.retryMs, opts.limit ?? 20, opts.mediaId);
    let purged = 0;
    for (const t of claimed) {
      try {
        if ((await this.purge(t)) === 'purged') purged += 1;
      } catch (err) {
        this.d.log.warn({ mediaId: t.mediaId, err: (err as Error).message }, 'purge failed; it is retried');
      }
    }
    return purged;
  }

  private async purge(t: MediaTombstone): Promise<PurgeOutcome> {
    const engine = await this.settleEngineJob(t);
    const removed = await deletePrefixes(this.d.s3, this.d.bucket, mediaPrefixes(t.userId, t.mediaId));
    if (!ENDED.has(engine)) {
      this.d.log.info(
        { mediaId: t.mediaId, engineJobId: t.engineJobId, engine, removed },
        'deleted media: engine job still running',
      );
      return 'engine job running';
    }
    await this.d.tombstones.markPurged(t);
    this.d.log.info({ mediaId: t.mediaId, engineJobId: t.engineJobId, engine, removed }, 'deleted media purged');
    return 'purged';
  }

  /** The engine job's status after cancelling it where it can be; 'missing' when there is none. */
  private async settleEngineJob(t: MediaTombstone): Promise<string> {
    let jobId = t.engineJobId;
    if (!jobId && t.engineCallSince && t.pipelineId) {
      // Deleted after a dispatch called CreateJob and died before recording the answer.
      jobId = (await this.d.engine.findJobForMedia(t.pipelineId, t.mediaId, t.engineCallSince))?.Id ?? null;
      if (jobId) await this.d.tombstones.recordEngineJob(t.mediaId, jobId);
    }
    return jobId ? this.d.engine.cancelIfSubmitted(jobId) : 'missing';
  }
}

/** Removes every object under the prefixes; returns how many there were. */
async function deletePrefixes(s3: S3Client, bucket: string, prefixes: readonly string[]): Promise<number> {
  let removed = 0;
  for (const prefix of prefixes) removed += await deleteKeys(s3, bucket, await listKeys(s3, bucket, prefix));
  return removed;
}
