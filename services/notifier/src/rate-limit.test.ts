import { describe, expect, it } from 'vitest';
import { TokenBucket } from './rate-limit';

describe('TokenBucket', () => {
  it('allows a burst, then refuses', () => {
    const b = new TokenBucket(3, 1, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
  });

  it('refills at the given rate, never above the burst', () => {
    const b = new TokenBucket(2, 10, 0);
    b.take(0);
    b.take(0);
    expect(b.take(50)).toBe(false); // half a token
    expect(b.take(100)).toBe(true); // one token after 100 ms at 10/s
    expect([b.take(10_000), b.take(10_000), b.take(10_000)]).toEqual([true, true, false]);
  });

  it('does not mint tokens when the clock goes backwards', () => {
    const b = new TokenBucket(1, 1, 1000);
    b.take(1000);
    expect(b.take(0)).toBe(false);
  });
});
