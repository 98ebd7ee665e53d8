import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newRecord } from './file-record';
import { StateStore } from './state.store';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'drop-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rec = (sha: string) => newRecord({ sha256: sha.repeat(64), name: 'a.wav', size: 3, mtimeMs: 1 }, 10);

describe('StateStore', () => {
  it('reads back what was written, and leaves no temporary file', async () => {
    const file = path.join(dir, '.drop-state.json');
    const store = await StateStore.open(file);
    await store.put(rec('a'));
    await store.put({ ...rec('b'), phase: 'waiting', mediaId: 'm' });
    await store.delete('a'.repeat(64));
    const again = await StateStore.open(file);
    expect(again.all()).toEqual([{ ...rec('b'), phase: 'waiting', mediaId: 'm' }]);
    expect(await readdir(dir)).toEqual(['.drop-state.json']);
  });

  it('keeps the last of many quick changes', async () => {
    const file = path.join(dir, 'state.json');
    const store = await StateStore.open(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put({ ...rec('c'), attempts: i })));
    expect(JSON.parse(await readFile(file, 'utf8')).files['c'.repeat(64)].attempts).toBe(19);
  });

  it('starts empty without a file', async () => {
    expect((await StateStore.open(path.join(dir, 'none.json'))).all()).toEqual([]);
  });

  it('refuses a state file it cannot understand rather than start from nothing', async () => {
    const file = path.join(dir, 'state.json');
    await writeFile(file, JSON.stringify({ version: 1, files: { x: { name: 'a' } } }));
    await expect(StateStore.open(file)).rejects.toThrow(/is not valid/);
  });
});
