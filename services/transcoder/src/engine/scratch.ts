// Scratch space of worker processes: one directory per worker under the configured root, named after its
// host and pid, so that a worker starting up can remove what a killed worker left behind.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const NAME = /^(.+)-(\d+)-([0-9a-f]{8})$/;

/** Makes this worker's own scratch directory under `root`: `<host>-<pid>-<random>`. */
export async function makeScratch(root: string, host = os.hostname()): Promise<string> {
  const dir = path.join(root, `${safeHost(host)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

export interface StaleScratchOptions {
  host?: string;
  /** Whether a process of this host is running. */
  isAlive?: (pid: number) => boolean;
  /** When this process started (ms): a directory of its own pid older than that is a dead namesake's. */
  startedAt?: number;
}

/**
 * Removes the scratch directories of this host's workers that are gone: their pid is not running, or it is
 * this process's pid (a container restarted with the same pid) and the directory is older than this
 * process. Other hosts' directories (a shared volume) are left alone. Returns the directories removed.
 */
export async function removeStaleScratch(root: string, opts: StaleScratchOptions = {}): Promise<string[]> {
  const host = safeHost(opts.host ?? os.hostname());
  const isAlive = opts.isAlive ?? processAlive;
  const startedAt = opts.startedAt ?? Date.now() - process.uptime() * 1000;
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const m = NAME.exec(name);
    if (!m || m[1] !== host) continue;
    const pid = Number(m[2]);
    const dir = path.join(root, name);
    let stale = !isAlive(pid);
    if (!stale && pid === process.pid)
      stale = ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Infinity) < startedAt;
    if (!stale) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeHost(host: string): string {
  return host.replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
}
