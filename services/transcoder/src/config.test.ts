import { describe, expect, it } from 'vitest';
import { loadTranscoderConfig } from './config';

const base = {
  DATABASE_URL: 'postgres://x@h/db',
  REDIS_URL: 'redis://h:6379',
  AWS_ACCESS_KEY_ID: 'a',
  AWS_SECRET_ACCESS_KEY: 'b',
};

describe('config', () => {
  it('parses key pairs, defaults and the public URL', () => {
    const c = loadTranscoderConfig({ ...base, ET_CREDENTIALS: 'AKID1:s1, AKID2:s:2' });
    expect([...c.ET_CREDENTIALS]).toEqual([
      ['AKID1', 's1'],
      ['AKID2', 's:2'],
    ]);
    expect(c.PORT).toBe(3003);
    expect(c.ET_PUBLIC_URL).toBe('http://127.0.0.1:3003');
    expect(c.ET_ACCOUNT_ID).toBe('000000000000');
    expect(c.SNS_REGION).toBe('us-east-1');
  });

  it('requires ET_CREDENTIALS and checks the subscription map', () => {
    expect(() => loadTranscoderConfig(base)).toThrow(/ET_CREDENTIALS is required/);
    expect(() => loadTranscoderConfig({ ...base, ET_CREDENTIALS: 'nocolon' })).toThrow(/ET_CREDENTIALS/);
    expect(() =>
      loadTranscoderConfig({
        ...base,
        ET_CREDENTIALS: 'A:b',
        ET_DELIVERY_SUBSCRIPTIONS: '{"not-an-arn":["http://x/"]}',
      }),
    ).toThrow(/ET_DELIVERY_SUBSCRIPTIONS/);
    const c = loadTranscoderConfig({
      ...base,
      ET_CREDENTIALS: 'A:b',
      ET_DELIVERY_SUBSCRIPTIONS: '{"arn:aws:sns:us-east-1:000000000000:t":["http://hook:3000/sns"]}',
    });
    expect(c.ET_DELIVERY_SUBSCRIPTIONS).toEqual({ 'arn:aws:sns:us-east-1:000000000000:t': ['http://hook:3000/sns'] });
  });
});
