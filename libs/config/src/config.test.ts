import { describe, expect, it } from 'vitest';
import { ConfigError, common, env, loadConfig, z } from './index';

const schema = z.object({ ...common, PORT: env.port(3000), FLAGS: env.list('a,b') });

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const cfg = loadConfig(schema, { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://h:1' });
    expect(cfg).toMatchObject({ PORT: 3000, FLAGS: ['a', 'b'], QUEUE_PREFIX: 'mp', LOG_LEVEL: 'info' });
  });

  it('names a missing variable in one line', () => {
    expect(() => loadConfig(schema, { REDIS_URL: 'redis://h' })).toThrowError(/^config: DATABASE_URL is required/);
  });

  it('names a bad variable', () => {
    const run = () => loadConfig(schema, { DATABASE_URL: 'postgres://x', REDIS_URL: 'redis://h', PORT: 'abc' });
    expect(run).toThrow(ConfigError);
    expect(run).toThrowError(/^config: PORT is invalid/);
  });
});
