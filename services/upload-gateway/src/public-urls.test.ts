import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { forRequest, isLoopback, requestOrigin } from './public-urls';

const req = (host: string, protocol = 'http') =>
  ({ host, hostname: host.replace(/:\d+$/, ''), protocol }) as unknown as FastifyRequest;

describe('public URLs', () => {
  it('puts the host the page was loaded from in place of a loopback host, keeping scheme and port', () => {
    expect(forRequest('http://127.0.0.1:3001', req('192.168.1.20:3000'))).toBe('http://192.168.1.20:3001');
    expect(forRequest('http://s3.localhost:7070/', req('media.lan:3000'))).toBe('http://media.lan:7070');
    expect(forRequest('http://localhost:3001', req('[fd00::5]:3000'))).toBe('http://[fd00::5]:3001');
  });

  it('keeps a configured URL that is not loopback, and a loopback one for a loopback page', () => {
    expect(forRequest('https://notify.example.com', req('192.168.1.20:3000'))).toBe('https://notify.example.com');
    expect(forRequest('http://127.0.0.1:3001', req('localhost:3000'))).toBe('http://127.0.0.1:3001');
    expect(forRequest('', req('192.168.1.20:3000'))).toBe('');
  });

  it('ignores a Host header that is not a plain host', () => {
    expect(forRequest('http://127.0.0.1:3001', req('evil.com/path'))).toBe('http://127.0.0.1:3001');
    expect(requestOrigin(req('a b'))).toBeNull();
    expect(requestOrigin(req('192.168.1.20:3000', 'https'))).toBe('https://192.168.1.20:3000');
  });

  it('knows loopback names', () => {
    for (const h of ['localhost', 's3.localhost', '127.0.0.1', '127.1.2.3', '[::1]']) expect(isLoopback(h)).toBe(true);
    for (const h of ['192.168.1.20', 'example.com', 'localhost.example.com']) expect(isLoopback(h)).toBe(false);
  });
});
