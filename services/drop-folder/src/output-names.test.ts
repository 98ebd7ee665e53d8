import { describe, expect, it } from 'vitest';
import { outputFileName, outputFolderName } from './output-names';

const URL_ = 'http://s3.local/bucket/transcoded/u/m/song.wav?X-Amz-Signature=abc';

describe('outputFileName', () => {
  it.each<[string, string | null, string, string]>([
    ['takes the RFC 6266 extended name', `attachment; filename*=UTF-8''caf%C3%A9%20mix.wav`, URL_, 'café mix.wav'],
    ['takes a plain quoted name', 'attachment; filename="song.flac"', URL_, 'song.flac'],
    ['falls back to the URL path', null, URL_, 'song.wav'],
    ['falls back to the format', null, 'http://s3.local/', 'wav'],
    ['strips directories from a header name', `attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd`, URL_, 'passwd'],
    ['strips a backslash path', 'attachment; filename="..\\..\\boot.ini"', URL_, 'boot.ini'],
    ['strips leading dots', 'attachment; filename=".bashrc"', URL_, 'bashrc'],
    ['never answers an empty name', 'attachment; filename="..."', URL_, 'file'],
    ['keeps a name with bad percent-encoding', `attachment; filename*=UTF-8''100%.wav`, URL_, '100_.wav'],
  ])('%s', (_name, header, url, expected) => {
    expect(outputFileName(header, url, 'wav')).toBe(expected);
  });
});

describe('outputFolderName', () => {
  it.each([
    ['song.mp3', 'song'],
    ['my.holiday.mov', 'my.holiday'],
    ['noext', 'noext'],
    ['..weird.wav', 'weird'],
  ])('%s → %s', (source, expected) => {
    expect(outputFolderName(source)).toBe(expected);
  });
});
