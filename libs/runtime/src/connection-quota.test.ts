import { describe, expect, it } from 'vitest';
import { ConnectionQuota, clientAddressKey } from './connection-quota';

describe('ConnectionQuota', () => {
  it('counts up to the limit per address, then refuses without counting', () => {
    const q = new ConnectionQuota(2);
    expect([q.take('a'), q.take('a'), q.take('a')]).toEqual([true, true, false]);
    expect(q.count('a')).toBe(2);
    expect(q.take('b')).toBe(true);
  });

  it('frees a place when a connection is given back, and forgets an address with none open', () => {
    const q = new ConnectionQuota(1);
    q.take('a');
    q.release('a');
    expect(q.count('a')).toBe(0);
    expect(q.take('a')).toBe(true);
    q.release('a');
    q.release('a');
    expect(q.count('a')).toBe(0);
  });
});

describe('clientAddressKey', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:7f00:1', '::ffff:7f00:1'],
  ])('%s is counted as %s', (given, key) => {
    expect(clientAddressKey(given)).toBe(key);
  });
});
