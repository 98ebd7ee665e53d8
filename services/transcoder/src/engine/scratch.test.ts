import { mkdir, mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeScratch, removeStaleScratch } from './scratch';

const tmpRoot = () => mkdtemp(path.join(os.tmpdir(), 'scratch-test-'));

describe('worker scratch directories', () => {
  it("removes what dead workers of this host left, keeps live ones and other hosts'", async () => {
    const root = await tmpRoot();
    const mine = await makeScratch(root, 'box');
    for (const name of [
      'box-111-0000000a',
      'box-222-0000000b',
      'other-111-0000000c',
      'et-job-xyz',
      'box-notapid-0000000d',
    ]) {
      await mkdir(path.join(root, name, 'et-job-1'), { recursive: true });
      await writeFile(path.join(root, name, 'et-job-1', 'decoded.nut'), 'pcm');
    }
    const removed = await removeStaleScratch(root, {
      host: 'box',
      isAlive: (pid) => pid === 222 || pid === process.pid,
    });
    expect(removed).toEqual([path.join(root, 'box-111-0000000a')]);
    expect((await readdir(root)).sort()).toEqual(
      ['box-222-0000000b', 'box-notapid-0000000d', 'et-job-xyz', 'other-111-0000000c', path.basename(mine)].sort(),
    );
  });

  it('removes a directory of its own pid only when it is older than this process (a restarted container)', async () => {
    const root = await tmpRoot();
    const sibling = await makeScratch(root, 'box');
    const old = path.join(root, `box-${process.pid}-0000beef`);
    await mkdir(old);
    const startedAt = Date.now() - 1000;
    await utimes(old, new Date(startedAt - 60_000), new Date(startedAt - 60_000));
    const removed = await removeStaleScratch(root, { host: 'box', isAlive: () => true, startedAt });
    expect(removed).toEqual([old]);
    expect(await readdir(root)).toEqual([path.basename(sibling)]);
  });
});
