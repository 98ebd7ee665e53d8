import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { createGatewayClient, GatewayError, type GatewayClient } from '@mp/contracts';
import type { Logger } from '@mp/logging';
import type { DropFolderConfig } from './config';
import {
  newRecord,
  nextAction,
  transition,
  whenFound,
  type FileEvent,
  type FileRecord,
  type RetryPolicy,
} from './file-record';
import { moveInto, sha256File, writeAtomically, writeText } from './files';
import { watchCompletions, type CompletionWatcher } from './notifier.client';
import { outputFileName, outputFolderName } from './output-names';
import { isCandidateName, observe, type Observation, type Watched } from './scan-rules';
import { StateStore } from './state.store';
import { uploadResumable } from './tus.client';

/** An upload cut short may still have reached the gateway; look for it this far back (clock skew included). */
const RESUME_LOOKBACK_MS = 10 * 60_000;

export interface DropFolder {
  /** Finishes the step under way (up to graceMs, then aborts it), saves the state and disconnects. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Watches DROP_DIR by polling: every POLL_MS it lists the folder, applies the stability rule, gives each
 * stable file a record (by checksum), and moves every record one step on. Steps that touch the gateway or
 * the disk run one at a time, in order; completion events only queue a status check.
 */
export async function startDropFolder(cfg: DropFolderConfig, log: Logger): Promise<DropFolder> {
  for (const dir of [cfg.DROP_DIR, cfg.OUT_DIR, cfg.FAILED_DIR, cfg.ARCHIVE_DIR])
    if (dir) await mkdir(dir, { recursive: true });
  const store = await StateStore.open(cfg.STATE_FILE);
  const gw = createGatewayClient({ baseUrl: cfg.GATEWAY_URL, token: cfg.API_TOKEN });
  await checkToken(gw, log);
  const df = new Runner(cfg, log, store, gw);
  df.start();
  return df;
}

async function checkToken(gw: GatewayClient, log: Logger): Promise<void> {
  try {
    await gw.verifyToken();
  } catch (err) {
    if (err instanceof GatewayError && (err.status === 401 || err.status === 403))
      throw new Error(`API_TOKEN refused by the gateway: ${err.message}`);
    log.warn({ err: (err as Error).message }, 'gateway not answering yet; will keep trying');
  }
}

class Runner implements DropFolder {
  private watched = new Map<string, Watched>();
  /** Checksums of files already hashed, while their size and mtime stay the same. */
  private hashed = new Map<string, Observation & { sha256: string }>();
  /** Records created by this process: their first upload needs no look-up for an earlier one. */
  private createdHere = new Set<string>();
  private work: Promise<void> = Promise.resolve();
  private queued = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly policy: RetryPolicy;
  private watcher: CompletionWatcher | null = null;

  constructor(
    private readonly cfg: DropFolderConfig,
    private readonly log: Logger,
    private readonly store: StateStore,
    private readonly gw: GatewayClient,
  ) {
    this.policy = { maxAttempts: cfg.MAX_ATTEMPTS, retryBaseMs: cfg.RETRY_BASE_MS, retryMaxMs: cfg.RETRY_MAX_MS };
  }

  start(): void {
    this.watcher = watchCompletions({
      url: this.cfg.NOTIFIER_URL,
      token: this.cfg.API_TOKEN,
      log: this.log,
      onFinished: (mediaId) => {
        const rec = this.store.all().find((r) => r.phase === 'waiting' && r.mediaId === mediaId);
        if (rec) this.enqueue('check', rec.sha256, () => this.check(rec.sha256));
      },
      onConnect: () => {
        for (const rec of this.store.all())
          if (rec.phase === 'waiting') this.enqueue('check', rec.sha256, () => this.check(rec.sha256));
      },
    });
    this.loop();
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
    await this.ticking;
    const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([this.work, grace]);
    // An upload cut short here is found again by checksum on the next start.
    this.abort.abort();
    await this.work;
    await this.store.flush();
    this.log.info('stopped');
  }

  private loop(): void {
    this.ticking = this.tick()
      .catch((err) => this.log.error({ err: (err as Error).message }, 'scan failed'))
      .finally(() => {
        if (!this.stopping) this.timer = setTimeout(() => this.loop(), this.cfg.POLL_MS);
      });
  }

  private async tick(): Promise<void> {
    await this.scan();
    const now = Date.now();
    for (const rec of this.store.all()) {
      const sha = rec.sha256;
      switch (nextAction(rec, now, this.cfg.COMPLETION_TIMEOUT_MS)) {
        case 'upload':
          this.enqueue('upload', sha, () => this.upload(sha));
          break;
        case 'download':
          this.enqueue('download', sha, () => this.download(sha));
          break;
        case 'check-timeout':
          this.enqueue('timeout', sha, () => this.check(sha, true));
          break;
        case 'settle':
          this.enqueue('settle', sha, () => this.settle(sha));
          break;
        case 'none':
          break;
      }
    }
  }

  /** Lists the folder, and gives each file found complete a record, unless its bytes are known. */
  private async scan(): Promise<void> {
    const current = await this.listFolder();
    const { watched, stable } = observe(this.watched, current, Date.now(), this.cfg.STABLE_MS);
    this.watched = watched;
    for (const name of this.hashed.keys()) if (!current.has(name)) this.hashed.delete(name);

    for (const name of stable) {
      if (this.stopping) return;
      const seen = current.get(name)!;
      const sha256 = await this.checksum(name, seen);
      if (!sha256) continue;
      const rec = this.store.get(sha256);
      const found = whenFound(rec);
      if (found === 'duplicate') {
        this.enqueue('duplicate', `${sha256}:${name}`, () => this.disposeDuplicate(name, seen, rec!));
      } else if (found === 'start') {
        await this.store.put(newRecord({ sha256, name, ...seen }, Date.now()));
        this.createdHere.add(sha256);
        this.log.info({ file: name, sha256 }, 'new file');
      }
    }
  }

  private async listFolder(): Promise<Map<string, Observation>> {
    const files = new Map<string, Observation>();
    for (const entry of await readdir(this.cfg.DROP_DIR, { withFileTypes: true })) {
      if (!entry.isFile() || !isCandidateName(entry.name)) continue;
      try {
        const s = await stat(path.join(this.cfg.DROP_DIR, entry.name));
        files.set(entry.name, { size: s.size, mtimeMs: s.mtimeMs });
      } catch {
        // Gone between the listing and the stat: the next scan will know.
      }
    }
    return files;
  }

  private async checksum(name: string, seen: Observation): Promise<string | null> {
    const known = this.hashed.get(name);
    if (known && known.size === seen.size && known.mtimeMs === seen.mtimeMs) return known.sha256;
    try {
      const sha256 = await sha256File(path.join(this.cfg.DROP_DIR, name));
      this.hashed.set(name, { ...seen, sha256 });
      return sha256;
    } catch (err) {
      this.log.warn({ file: name, err: (err as Error).message }, 'cannot read file');
      return null;
    }
  }

  /** Steps run one at a time; the same step for the same record is queued once. */
  private enqueue(step: string, key: string, task: () => Promise<void>): void {
    const id = `${step}:${key}`;
    if (this.stopping || this.queued.has(id)) return;
    this.queued.add(id);
    this.work = this.work.then(async () => {
      this.queued.delete(id);
      if (this.stopping) return;
      try {
        await task();
      } catch (err) {
        this.log.error({ step, key, err: (err as Error).message }, 'step failed');
      }
    });
  }

  private record(sha256: string, phase: FileRecord['phase']): FileRecord | null {
    const rec = this.store.get(sha256);
    return rec && rec.phase === phase && !rec.settled ? rec : null;
  }

  private async apply(rec: FileRecord, ev: FileEvent): Promise<FileRecord> {
    const next = transition(rec, ev, Date.now(), this.policy);
    await this.store.put(next);
    const ctx = { file: next.name, sha256: next.sha256, mediaId: next.mediaId };
    if (next.phase === 'failed') this.log.error({ ...ctx, reason: next.error }, 'file failed');
    else if (ev.type === 'error')
      this.log.warn({ ...ctx, attempt: next.attempts, err: next.error, retryAt: next.retryAt }, 'will retry');
    else this.log.info({ ...ctx, phase: next.phase, settled: next.settled }, ev.type);
    return next;
  }

  /** A step's error: permanent ones fail the file, others are retried until the attempts run out. */
  private async fault(rec: FileRecord, err: unknown): Promise<void> {
    if (this.abort.signal.aborted) return;
    const reason = (err as Error).message;
    if (err instanceof GatewayError && err.permanent) await this.apply(rec, { type: 'failed', reason });
    else await this.apply(rec, { type: 'error', reason });
  }

  private async upload(sha256: string): Promise<void> {
    const rec = this.record(sha256, 'uploading');
    if (!rec) return;
    const file = path.join(this.cfg.DROP_DIR, rec.name);
    if (!(await this.sameFile(file, rec))) {
      // Gone or rewritten since it was hashed: a new version gets its own record once stable.
      this.log.warn({ file: rec.name, sha256 }, 'file changed before upload; forgetting it');
      await this.store.delete(sha256);
      return;
    }
    try {
      const earlier =
        this.createdHere.has(sha256) && rec.attempts === 0
          ? null
          : await this.gw.findBySha256(sha256, rec.createdAt - RESUME_LOOKBACK_MS, this.abort.signal);
      if (earlier)
        this.log.info({ file: rec.name, mediaId: earlier.id }, 'found the earlier upload; not uploading again');
      const media = earlier ?? (await this.send(file, rec));
      if (media.sha256 && media.sha256 !== sha256) {
        this.log.warn({ file: rec.name, mediaId: media.id }, 'file changed during upload; discarding that upload');
        await this.gw.remove(media.id).catch(() => {});
        await this.store.delete(sha256);
        return;
      }
      await this.apply(rec, { type: 'uploaded', mediaId: media.id });
    } catch (err) {
      await this.fault(rec, err);
      return;
    }
    // A completion announced before the media id was saved would otherwise wait for the next reconnect.
    this.enqueue('check', sha256, () => this.check(sha256));
  }

  /** Big files go through tus, resumable (its upload URL kept beside the state file); others in one request. */
  private async send(file: string, rec: FileRecord) {
    if (rec.size <= this.cfg.RESUMABLE_THRESHOLD_BYTES) return this.gw.upload(file, rec.name, this.abort.signal);
    const opts = {
      gatewayUrl: this.cfg.GATEWAY_URL,
      token: this.cfg.API_TOKEN,
      urlFile: `${this.cfg.STATE_FILE}.uploads`,
    };
    const mediaId = await uploadResumable(opts, file, rec.name, rec.sha256, this.abort.signal);
    return this.gw.media(mediaId, this.abort.signal);
  }

  /** Asks the gateway where a waiting media stands. At the timeout, anything but complete fails it. */
  private async check(sha256: string, timedOut = false): Promise<void> {
    const rec = this.record(sha256, 'waiting');
    if (!rec?.mediaId) return;
    try {
      const media = await this.gw.media(rec.mediaId, this.abort.signal);
      if (media.status === 'complete') {
        await this.apply(rec, { type: 'completed' });
        this.enqueue('download', sha256, () => this.download(sha256));
        return;
      }
      if (media.status === 'failed') {
        await this.apply(rec, {
          type: 'failed',
          reason: `the pipeline could not process it: ${media.statusDetail ?? 'no detail given'}`,
        });
        return;
      }
    } catch (err) {
      if (this.abort.signal.aborted) return;
      if (err instanceof GatewayError && err.status === 404) {
        await this.apply(rec, { type: 'failed', reason: 'the media was deleted from the gateway before it completed' });
        return;
      }
      this.log.warn({ file: rec.name, mediaId: rec.mediaId, err: (err as Error).message }, 'status check failed');
    }
    if (timedOut) await this.apply(rec, { type: 'timed-out', timeoutMs: this.cfg.COMPLETION_TIMEOUT_MS });
  }

  /** Every complete output to OUT_DIR/<source base name>/<output name>, each written whole or not at all. */
  private async download(sha256: string): Promise<void> {
    const rec = this.record(sha256, 'downloading');
    if (!rec?.mediaId) return;
    try {
      const media = await this.gw.media(rec.mediaId, this.abort.signal);
      const ready = (media.outputs ?? []).filter((o) => o.status === 'complete');
      if (ready.length === 0) {
        await this.apply(rec, { type: 'failed', reason: 'the media completed without any output' });
        return;
      }
      const dir = path.join(this.cfg.OUT_DIR, outputFolderName(rec.name));
      await mkdir(dir, { recursive: true });
      const written: string[] = [];
      for (const output of ready) {
        const dl = await this.gw.download(rec.mediaId, output.id, this.abort.signal);
        let name = outputFileName(dl.contentDisposition, dl.url, output.format);
        if (written.includes(path.join(dir, name))) name = `${output.format}-${name}`;
        const dest = path.join(dir, name);
        const bytes = await writeAtomically(dl.body, dest);
        if (output.size !== null && bytes !== output.size) {
          throw new GatewayError(
            null,
            'SHORT_DOWNLOAD',
            `output ${output.id}: got ${bytes} bytes, expected ${output.size}`,
          );
        }
        written.push(dest);
      }
      await this.apply(rec, { type: 'downloaded', outputs: written });
    } catch (err) {
      await this.fault(rec, err);
    }
  }

  /** Removes or archives a processed source; moves a failed one aside with a note saying why. */
  private async settle(sha256: string): Promise<void> {
    const rec = this.store.get(sha256);
    if (!rec || rec.settled || (rec.phase !== 'done' && rec.phase !== 'failed')) return;
    const file = path.join(this.cfg.DROP_DIR, rec.name);
    if (!(await this.sameFile(file, rec))) {
      this.log.warn({ file: rec.name, sha256 }, 'source gone or replaced; leaving the folder as it is');
    } else if (rec.phase === 'done') {
      await this.dispose(file);
    } else {
      const moved = await moveInto(file, this.cfg.FAILED_DIR);
      await writeText(`${moved}.error.txt`, errorNote(rec));
      this.log.error({ file: rec.name, movedTo: moved, reason: rec.error }, 'moved aside');
    }
    await this.apply(rec, { type: 'settled' });
  }

  private async disposeDuplicate(name: string, seen: Observation, original: FileRecord): Promise<void> {
    const file = path.join(this.cfg.DROP_DIR, name);
    if (!(await this.sameFile(file, seen))) return;
    this.log.info(
      { file: name, sameAs: original.name, mediaId: original.mediaId },
      'already processed; not uploading again',
    );
    await this.dispose(file);
  }

  private async dispose(file: string): Promise<void> {
    if (this.cfg.ARCHIVE_DIR) await moveInto(file, this.cfg.ARCHIVE_DIR);
    else await unlink(file);
  }

  private async sameFile(file: string, expected: Observation): Promise<boolean> {
    try {
      const s = await stat(file);
      return s.isFile() && s.size === expected.size && s.mtimeMs === expected.mtimeMs;
    } catch {
      return false;
    }
  }
}

function errorNote(rec: FileRecord): string {
  return [
    `${rec.name} could not be processed.`,
    `Reason: ${rec.error ?? 'unknown'}`,
    ...(rec.mediaId ? [`Media id: ${rec.mediaId}`] : []),
    `SHA-256: ${rec.sha256}`,
    `At: ${new Date(rec.updatedAt).toISOString()}`,
    '',
  ].join('\n');
}
