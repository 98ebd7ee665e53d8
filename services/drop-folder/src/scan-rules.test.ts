import { describe, expect, it } from 'vitest';
import { isCandidateName, observe, type Observation, type Watched } from './scan-rules';

describe('isCandidateName', () => {
  it.each([
    ['song.mp3', true],
    ['clip.final.mov', true],
    ['.drop-state.json', false],
    ['.hidden.wav', false],
    ['upload.mp4.part', false],
    ['upload.mp4.PART', false],
    ['render.tmp', false],
    ['notes.wav~', false],
    ['partial', true],
  ])('%s → %s', (name, expected) => {
    expect(isCandidateName(name)).toBe(expected);
  });
});

describe('observe (stability rule)', () => {
  const files = (entries: Record<string, Observation>) => new Map(Object.entries(entries));
  const STABLE = 2000;

  function run(steps: Array<[number, Record<string, Observation>]>): string[][] {
    let watched = new Map<string, Watched>();
    return steps.map(([now, current]) => {
      const r = observe(watched, files(current), now, STABLE);
      watched = r.watched;
      return r.stable;
    });
  }

  it('is stable only after size and mtime are unchanged for the whole window', () => {
    const a = { size: 10, mtimeMs: 1 };
    expect(
      run([
        [0, { a }],
        [1999, { a }],
        [2000, { a }],
      ]),
    ).toEqual([[], [], ['a']]);
  });

  it('restarts the window when the size grows', () => {
    expect(
      run([
        [0, { a: { size: 10, mtimeMs: 1 } }],
        [1500, { a: { size: 20, mtimeMs: 1 } }],
        [3000, { a: { size: 20, mtimeMs: 1 } }],
        [3500, { a: { size: 20, mtimeMs: 1 } }],
      ]),
    ).toEqual([[], [], [], ['a']]);
  });

  it('restarts the window when only the mtime changes (rewritten in place)', () => {
    expect(
      run([
        [0, { a: { size: 10, mtimeMs: 1 } }],
        [1500, { a: { size: 10, mtimeMs: 2 } }],
        [2500, { a: { size: 10, mtimeMs: 2 } }],
        [3500, { a: { size: 10, mtimeMs: 2 } }],
      ]),
    ).toEqual([[], [], [], ['a']]);
  });

  it('never calls an empty file stable', () => {
    const empty = { size: 0, mtimeMs: 1 };
    expect(
      run([
        [0, { empty }],
        [10_000, { empty }],
      ]),
    ).toEqual([[], []]);
  });

  it('forgets a file that went away, so a new one by that name waits again', () => {
    const a = { size: 10, mtimeMs: 1 };
    expect(
      run([
        [0, { a }],
        [1000, {}],
        [2500, { a }],
        [4500, { a }],
      ]),
    ).toEqual([[], [], [], ['a']]);
  });

  it('judges each file on its own', () => {
    const a = { size: 10, mtimeMs: 1 };
    expect(
      run([
        [0, { a }],
        [1000, { a, b: a }],
        [2000, { a, b: a }],
        [3000, { a, b: a }],
      ]),
    ).toEqual([[], [], ['a'], ['a', 'b']]);
  });
});
