import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, lstat, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** `dir/name`, or `dir/name (1).ext`, `(2)` … when taken. */
export async function freePath(dir: string, name: string): Promise<string> {
  const ext = path.extname(name);
  const base = name.slice(0, name.length - ext.length);
  for (let i = 0; ; i++) {
    const candidate = path.join(dir, i === 0 ? name : `${base} (${i})${ext}`);
    if (!(await exists(candidate))) return candidate;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Moves a file into dir without overwriting anything there; copies when dir is on another filesystem. */
export async function moveInto(file: string, dir: string): Promise<string> {
  const dest = await freePath(dir, path.basename(file));
  try {
    await rename(file, dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(file, dest);
    await unlink(file);
  }
  return dest;
}

export async function writeText(file: string, text: string): Promise<void> {
  await writeFile(file, text, 'utf8');
}

/**
 * Streams to a hidden temporary name next to dest and renames it into place once complete, so a reader
 * never sees a half-written output. Returns the bytes written.
 */
export async function writeAtomically(source: Readable, dest: string): Promise<number> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(4).toString('hex')}.part`);
  try {
    await pipeline(source, createWriteStream(tmp));
    const { size } = await stat(tmp);
    await rename(tmp, dest);
    return size;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
