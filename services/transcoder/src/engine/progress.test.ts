import { describe, expect, it } from 'vitest';
import { progressThrottle } from './progress';

function record(minIntervalMs?: number) {
  const seen: number[] = [];
  let clock = 1_000;
  const report = progressThrottle((pct) => seen.push(pct), {
    ...(minIntervalMs === undefined ? {} : { minIntervalMs }),
    now: () => clock,
  });
  return { seen, report, advance: (ms: number) => (clock += ms) };
}

describe('progressThrottle', () => {
  it('passes each whole percentage once, rising only, within 0..99', () => {
    const { seen, report } = record();
    for (const pct of [-5, 0.4, 0.9, 1.2, 1.7, 0.5, 42, 41, 99.5, 100, 250, Number.NaN]) report(pct);
    expect(seen).toEqual([0, 1, 42, 99]);
  });

  it('waits the interval between two updates, and a skipped value does not count as passed', () => {
    const { seen, report, advance } = record(1000);
    report(10);
    advance(500);
    report(20);
    advance(499);
    report(30);
    advance(1);
    report(25);
    expect(seen).toEqual([10, 25]);
  });
});
