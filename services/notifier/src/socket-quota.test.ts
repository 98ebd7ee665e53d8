import { describe, expect, it } from 'vitest';
import { SocketQuota } from './socket-quota';

describe('SocketQuota', () => {
  it('counts up to the limit per user, and a release frees one slot', () => {
    const quota = new SocketQuota(2);
    expect([1, 2, 3, 4].map(() => quota.take('dana'))).toEqual([true, true, false, false]);
    expect(quota.take('erin')).toBe(true);
    quota.release('dana');
    expect(quota.count('dana')).toBe(1);
    expect([quota.take('dana'), quota.take('dana')]).toEqual([true, false]);
    quota.release('erin');
    quota.release('erin'); // one too many: stays at zero
    expect(quota.count('erin')).toBe(0);
    expect(quota.take('erin')).toBe(true);
  });
});
