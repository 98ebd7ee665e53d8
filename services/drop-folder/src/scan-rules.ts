/** Names a writer uses while a file is incomplete, and hidden files (the state file among them). */
const PARTIAL = /\.(part|tmp)$/i;

/** Whether a top-level entry of the drop folder is a file to process, judged by its name. */
export function isCandidateName(name: string): boolean {
  return name.length > 0 && !name.startsWith('.') && !PARTIAL.test(name) && !name.endsWith('~');
}

export interface Observation {
  size: number;
  mtimeMs: number;
}

export interface Watched extends Observation {
  /** When size and mtime were last seen to change (or first seen). */
  since: number;
}

/**
 * One scan's view of the folder against the previous one. A file is completely written once its size and
 * mtime have not changed for `stableMs` of our own observation (its mtime may be old: `cp -p`). An empty file
 * is never stable: writers often create the file first and fill it later. Files no longer present are forgotten.
 */
export function observe(
  previous: ReadonlyMap<string, Watched>,
  current: ReadonlyMap<string, Observation>,
  now: number,
  stableMs: number,
): { watched: Map<string, Watched>; stable: string[] } {
  const watched = new Map<string, Watched>();
  const stable: string[] = [];
  for (const [name, seen] of current) {
    const before = previous.get(name);
    const unchanged = before !== undefined && before.size === seen.size && before.mtimeMs === seen.mtimeMs;
    const entry: Watched = { size: seen.size, mtimeMs: seen.mtimeMs, since: unchanged ? before.since : now };
    watched.set(name, entry);
    if (entry.size > 0 && now - entry.since >= stableMs) stable.push(name);
  }
  return { watched, stable };
}
