import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { warnOnError } from './redis';

describe('warnOnError', () => {
  it('logs each error message once per interval, and each new message at once', () => {
    const lines: string[] = [];
    const source = new EventEmitter();
    let t = 0;
    warnOnError(source, { warn: (_obj, msg) => lines.push(msg) }, 'redis', 1000, () => t);
    source.emit('error', new Error('ECONNREFUSED'));
    t = 500;
    source.emit('error', new Error('ECONNREFUSED'));
    source.emit('error', new Error('READONLY'));
    t = 1000;
    source.emit('error', new Error('ECONNREFUSED'));
    expect(lines).toEqual(['redis: ECONNREFUSED', 'redis: READONLY', 'redis: ECONNREFUSED']);
  });
});
