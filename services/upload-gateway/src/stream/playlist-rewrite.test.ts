import { describe, expect, it } from 'vitest';
import { PlaylistError, rewritePlaylist } from './playlist-rewrite';

describe('rewritePlaylist', () => {
  it('rewrites every URI line and tag URI, and keeps the tags', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720',
      'hls-2m.m3u8',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="hls-2m_iframe.m3u8"',
      '',
    ].join('\n');
    expect(rewritePlaylist(master, (n) => `https://gw/v/${n}?t=x`)).toBe(
      [
        '#EXTM3U',
        '#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720',
        'https://gw/v/hls-2m.m3u8?t=x',
        '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="https://gw/v/hls-2m_iframe.m3u8?t=x"',
        '',
      ].join('\n'),
    );
  });

  it('refuses a URI that leaves the playlist folder or names another host', () => {
    for (const uri of ['../other/seg.ts', 'a/b.ts', 'https://evil/seg.ts', '/abs.ts', 'a..b.ts'])
      expect(() => rewritePlaylist(`#EXTM3U\n#EXTINF:6,\n${uri}\n`, (n) => n)).toThrow(PlaylistError);
  });
});
