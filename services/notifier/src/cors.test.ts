import { describe, expect, it } from 'vitest';
import { originAllowed } from './cors';

describe('originAllowed', () => {
  const list = ['http://localhost:3000', 'http://127.0.0.1:3000'];

  it('allows the listed origins, and a loopback entry on any host with the same scheme and port', () => {
    expect(originAllowed('http://localhost:3000', list)).toBe(true);
    expect(originAllowed('http://192.168.1.20:3000', list)).toBe(true);
    expect(originAllowed('http://media.lan:3000', list)).toBe(true);
  });

  it('refuses another port or scheme, a garbled origin, and a non-loopback entry on another host', () => {
    expect(originAllowed('http://192.168.1.20:4000', list)).toBe(false);
    expect(originAllowed('https://192.168.1.20:3000', list)).toBe(false);
    expect(originAllowed('null', list)).toBe(false);
    expect(originAllowed('https://evil.example', ['https://media.example.com'])).toBe(false);
  });

  it('allows every origin when the list is empty', () => {
    expect(originAllowed('https://anything.example', [])).toBe(true);
  });
});
