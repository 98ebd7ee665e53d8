import { describe, expect, it } from 'vitest';
import { baseName, mediaKey, outputPrefix, parseMediaKey, sanitizeName } from './keys';

const U = '0b9c6f5e-2d3a-4c1b-9e8f-7a6b5c4d3e2f';
const M = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

describe('sanitizeName', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['a/b/c.mp3', 'c.mp3'],
    ['..\\..\\win.ini', 'win.ini'],
    ['bad\u0000\u0007\u001bname.wav', 'badname.wav'],
    ['..hidden', 'hidden'],
    ['   ', 'file'],
    ['', 'file'],
    ['..', 'file'],
    ['ça va? 日本語 🎵.mp3', 'ça va_ 日本語 🎵.mp3'],
    ['e\u0301.mp3', 'é.mp3'],
    ['rtl\u202Eevil.mp3', 'rtlevil.mp3'],
  ])('%j → %j', (input, out) => {
    expect(sanitizeName(input)).toBe(out);
  });

  it('bounds the length in bytes and keeps the extension', () => {
    const s = sanitizeName('é'.repeat(500) + '.flac');
    expect(Buffer.byteLength(s)).toBeLessThanOrEqual(200);
    expect(s.endsWith('.flac')).toBe(true);
  });
});

describe('keys', () => {
  it('builds and parses upload keys', () => {
    const key = mediaKey(U, M, '../x/song.mp3');
    expect(key).toBe(`media/${U}/${M}/song.mp3`);
    expect(parseMediaKey(key)).toEqual({ userId: U, mediaId: M, name: 'song.mp3' });
  });

  it('puts outputs outside the upload prefix', () => {
    expect(outputPrefix(U, M)).toBe(`transcoded/${U}/${M}/`);
    expect(parseMediaKey(`${outputPrefix(U, M)}song.wav`)).toBeNull();
  });

  it('refuses ids that are not uuids', () => {
    expect(() => mediaKey('../x', M, 'a')).toThrow(/invalid userId/);
  });

  it('baseName drops the extension', () => {
    expect(baseName('a.b.mp3')).toBe('a.b');
    expect(baseName('.mp3')).toBe('.mp3');
  });
});
