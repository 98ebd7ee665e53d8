import { describe, expect, it } from 'vitest';
import {
  codecsAttribute,
  keyInfo,
  masterPlaylist,
  measuredBandwidth,
  parseMediaPlaylist,
  segmentKey,
  variantPlaylist,
} from './hls';

const ffmpegPlaylist = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:2.000000,
seg00000.ts
#EXTINF:1.480000,
seg00001.ts
#EXT-X-ENDLIST
`;

describe('HLSv3 names and playlists', () => {
  it('numbers segments from 00000 after the key, as the service did', () => {
    expect(segmentKey('kinder/june0008/hls0400k/june0008', 0)).toBe('kinder/june0008/hls0400k/june000800000.ts');
    expect(segmentKey('a', 12)).toBe('a00012.ts');
  });

  it("reads the segments of ffmpeg's media playlist", () => {
    expect(parseMediaPlaylist(ffmpegPlaylist)).toEqual([
      { file: 'seg00000.ts', seconds: 2 },
      { file: 'seg00001.ts', seconds: 1.48 },
    ]);
  });

  it("writes the stored media playlist with the segments' own names, relative and escaped", () => {
    const text = variantPlaylist(parseMediaPlaylist(ffmpegPlaylist), 'out/hls/my song', 2);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXTINF:2.000000,',
        'my%20song00000.ts',
        '#EXTINF:1.480000,',
        'my%20song00001.ts',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });

  it('names the AES-128 key and IV of encrypted segments, and gives ffmpeg its key info', () => {
    const key = {
      key: Buffer.alloc(16, 1),
      iv: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'),
      uri: 'index.key',
    };
    const text = variantPlaylist(parseMediaPlaylist(ffmpegPlaylist), 'a', 2, key);
    expect(text.split('\n').slice(5, 7)).toEqual([
      '#EXT-X-KEY:METHOD=AES-128,URI="index.key",IV=0x000102030405060708090a0b0c0d0e0f',
      '#EXTINF:2.000000,',
    ]);
    expect(keyInfo(key, '/j/key.bin')).toBe('index.key\n/j/key.bin\n000102030405060708090a0b0c0d0e0f\n');
  });

  it('takes the peak and the average bit rate of the segments', () => {
    expect(
      measuredBandwidth([
        { bytes: 250_000, seconds: 2 },
        { bytes: 100_000, seconds: 0.5 },
        { bytes: 10, seconds: 0 },
      ]),
    ).toEqual({
      peak: 1_600_000,
      average: 1_120_000,
    });
  });

  it('names codecs as RFC 6381 does', () => {
    expect(
      codecsAttribute({ video: { codec: 'h264', profile: 'Main', level: 31 }, audio: { codec: 'aac', profile: 'LC' } }),
    ).toEqual(['avc1.4d401f', 'mp4a.40.2']);
    expect(codecsAttribute({ video: { codec: 'h264', profile: 'Constrained Baseline', level: 30 } })).toEqual([
      'avc1.42e01e',
    ]);
    expect(codecsAttribute({ audio: { codec: 'aac', profile: 'HE-AAC' } })).toEqual(['mp4a.40.5']);
  });

  it('lists the renditions highest first, relative to the master', () => {
    const text = masterPlaylist('p/hls/index.m3u8', [
      {
        key: 'p/hls/400k',
        playlistKey: 'p/hls/400k.m3u8',
        audioOnly: false,
        bandwidth: { peak: 500_000, average: 400_000 },
        width: 400,
        height: 288,
        codecs: ['avc1.42e01e', 'mp4a.40.2'],
        frameRate: 25,
      },
      {
        key: 'p/hls/audio',
        playlistKey: 'p/hls/audio.m3u8',
        audioOnly: true,
        bandwidth: { peak: 70_000, average: 66_000 },
        codecs: ['mp4a.40.2'],
      },
      {
        key: 'p/hls/1m',
        playlistKey: 'p/hls/1m.m3u8',
        audioOnly: false,
        bandwidth: { peak: 1_100_000, average: 900_000 },
        width: 640,
        height: 432,
        codecs: ['avc1.4d401f', 'mp4a.40.2'],
      },
    ]);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=1100000,AVERAGE-BANDWIDTH=900000,RESOLUTION=640x432,CODECS="avc1.4d401f,mp4a.40.2"',
        '1m.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=400000,RESOLUTION=400x288,FRAME-RATE=25.000,CODECS="avc1.42e01e,mp4a.40.2"',
        '400k.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=70000,AVERAGE-BANDWIDTH=66000,CODECS="mp4a.40.2"',
        'audio.m3u8',
        '',
      ].join('\n'),
    );
  });
});
