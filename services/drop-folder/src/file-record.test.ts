import { describe, expect, it } from 'vitest';
import {
  newRecord,
  nextAction,
  retryDelay,
  transition,
  whenFound,
  type FileEvent,
  type FileRecord,
} from './file-record';

const policy = { maxAttempts: 3, retryBaseMs: 1000, retryMaxMs: 5000 };
const MEDIA = '0b6f3b9e-5d0e-4d7e-9a57-8a6f0f9f1c11';
const start = () => newRecord({ sha256: 'ab'.repeat(32), name: 'song.wav', size: 10, mtimeMs: 5 }, 1000);

function run(rec: FileRecord, ...events: Array<[number, FileEvent]>): FileRecord {
  return events.reduce((r, [now, ev]) => transition(r, ev, now, policy), rec);
}

describe('transition', () => {
  it('walks uploading → waiting → downloading → done → settled', () => {
    const rec = run(
      start(),
      [2000, { type: 'uploaded', mediaId: MEDIA }],
      [3000, { type: 'completed' }],
      [4000, { type: 'downloaded', outputs: ['/out/song/song.wav'] }],
      [5000, { type: 'settled' }],
    );
    expect(rec).toMatchObject({
      phase: 'done',
      mediaId: MEDIA,
      waitingSince: 2000,
      outputs: ['/out/song/song.wav'],
      settled: true,
      updatedAt: 5000,
      createdAt: 1000,
    });
  });

  it('retries a transient error with a growing delay, then fails when attempts are exhausted', () => {
    const once = run(start(), [2000, { type: 'error', reason: 'connect ECONNREFUSED' }]);
    expect(once).toMatchObject({ phase: 'uploading', attempts: 1, retryAt: 3000, error: 'connect ECONNREFUSED' });
    const twice = run(once, [3000, { type: 'error', reason: '502 Bad Gateway' }]);
    expect(twice).toMatchObject({ phase: 'uploading', attempts: 2, retryAt: 5000 });
    const third = run(twice, [5000, { type: 'error', reason: '502 Bad Gateway' }]);
    expect(third).toMatchObject({
      phase: 'failed',
      attempts: 3,
      retryAt: null,
      error: 'gave up after 3 attempts: 502 Bad Gateway',
    });
  });

  it('counts attempts per step: advancing resets them', () => {
    const rec = run(
      start(),
      [2000, { type: 'error', reason: 'timeout' }],
      [3000, { type: 'uploaded', mediaId: MEDIA }],
    );
    expect(rec).toMatchObject({ phase: 'waiting', attempts: 0, retryAt: null, error: null });
  });

  it('fails at once on a permanent failure', () => {
    const rec = run(start(), [2000, { type: 'failed', reason: 'the gateway refused the file (415)' }]);
    expect(rec).toMatchObject({ phase: 'failed', error: 'the gateway refused the file (415)', settled: false });
  });

  it('fails a media that did not complete in time', () => {
    const rec = run(
      start(),
      [2000, { type: 'uploaded', mediaId: MEDIA }],
      [9000, { type: 'timed-out', timeoutMs: 7000 }],
    );
    expect(rec).toMatchObject({ phase: 'failed', error: 'the media did not complete within 7 s' });
  });

  it.each<[string, FileEvent[]]>([
    ['completed while uploading', [{ type: 'completed' }]],
    [
      'uploaded twice',
      [
        { type: 'uploaded', mediaId: MEDIA },
        { type: 'uploaded', mediaId: MEDIA },
      ],
    ],
    ['settled before done', [{ type: 'settled' }]],
    [
      'a transient error while waiting',
      [
        { type: 'uploaded', mediaId: MEDIA },
        { type: 'error', reason: 'x' },
      ],
    ],
    ['anything after settling', [{ type: 'failed', reason: 'x' }, { type: 'settled' }, { type: 'settled' }]],
  ])('rejects %s', (_name, events) => {
    expect(() => run(start(), ...events.map((e): [number, FileEvent] => [2000, e]))).toThrow(/not allowed/);
  });
});

describe('retryDelay', () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, policy))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});

describe('nextAction', () => {
  const TIMEOUT = 10_000;
  it.each<[string, FileRecord, number, string]>([
    ['uploads a new record', start(), 1000, 'upload'],
    ['holds a retry until its time', { ...start(), retryAt: 5000 }, 4999, 'none'],
    ['retries when the time has come', { ...start(), retryAt: 5000 }, 5000, 'upload'],
    ['leaves a waiting record to events', { ...start(), phase: 'waiting', waitingSince: 1000 }, 10_999, 'none'],
    [
      'checks a waiting record past the timeout',
      { ...start(), phase: 'waiting', waitingSince: 1000 },
      11_000,
      'check-timeout',
    ],
    ['downloads', { ...start(), phase: 'downloading' }, 1000, 'download'],
    ['settles a finished record', { ...start(), phase: 'done' }, 1000, 'settle'],
    ['settles a failed record', { ...start(), phase: 'failed' }, 1000, 'settle'],
    ['has nothing left for a settled one', { ...start(), phase: 'done', settled: true }, 1000, 'none'],
  ])('%s', (_name, rec, now, action) => {
    expect(nextAction(rec, now, TIMEOUT)).toBe(action);
  });
});

describe('whenFound', () => {
  it('starts unknown bytes', () => expect(whenFound(undefined)).toBe('start'));
  it('treats bytes already done as a duplicate', () =>
    expect(whenFound({ ...start(), phase: 'done', settled: true })).toBe('duplicate'));
  it('gives bytes that failed and were put back a fresh start', () =>
    expect(whenFound({ ...start(), phase: 'failed', settled: true })).toBe('start'));
  it.each(['uploading', 'waiting', 'downloading', 'done', 'failed'] as const)(
    'leaves an unsettled %s record to its flow',
    (phase) => expect(whenFound({ ...start(), phase })).toBe('in-progress'),
  );
});
