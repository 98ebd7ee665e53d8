import { describe, expect, it } from 'vitest';
import { clientManifest, manifestTracks, serverManifest, toTicks, type SmoothQuality } from './smooth';

const video = (key: string, bitrate: number, width: number): SmoothQuality => ({
  key,
  bitrate,
  track: {
    type: 'video',
    trackId: 1,
    timescale: 10_000_000,
    codecPrivateData: '0000000167AA0000000168BB',
    width,
    height: (width * 9) / 16,
  },
  chunks: [
    { time: 0, duration: 20_000_000 },
    { time: 20_000_000, duration: 10_000_000 },
  ],
});
const audio = (key: string): SmoothQuality => ({
  key,
  bitrate: 128_000,
  track: { type: 'audio', trackId: 2, timescale: 44_100, codecPrivateData: '1210', sampleRate: 44_100, channels: 2 },
  chunks: [{ time: 0, duration: 30_000_000 }],
});

describe('Smooth Streaming manifests', () => {
  const tracks = manifestTracks([
    [video('p/s/hi', 900_000, 640), audio('p/s/hi')],
    [video('p/s/lo', 500_000, 384), audio('p/s/lo')],
  ]);

  it("lists every video track and the first output's audio once", () => {
    expect(tracks.map((q) => [q.key, q.track.type])).toEqual([
      ['p/s/hi', 'video'],
      ['p/s/lo', 'video'],
      ['p/s/hi', 'audio'],
    ]);
  });

  it('writes the client manifest: quality levels by bit rate, chunks in 100 ns', () => {
    const text = clientManifest(tracks);
    expect(text).toContain(
      '<SmoothStreamingMedia MajorVersion="2" MinorVersion="0" TimeScale="10000000" Duration="30000000">',
    );
    expect(text).toContain(
      '<StreamIndex Type="video" Name="video" Chunks="2" QualityLevels="2" Url="QualityLevels({bitrate})/Fragments(video={start time})" MaxWidth="640" MaxHeight="360">',
    );
    expect(text).toContain(
      '<QualityLevel Index="0" Bitrate="900000" FourCC="H264" MaxWidth="640" MaxHeight="360" CodecPrivateData="0000000167AA0000000168BB"/>',
    );
    expect(text).toContain('<QualityLevel Index="1" Bitrate="500000" FourCC="H264" MaxWidth="384" MaxHeight="216"');
    expect(text).toContain(
      '<QualityLevel Index="0" Bitrate="128000" FourCC="AACL" SamplingRate="44100" Channels="2" BitsPerSample="16" PacketSize="4" AudioTag="255" CodecPrivateData="1210"/>',
    );
    expect(text).toContain('<c t="20000000" d="10000000"/>');
  });

  it("writes the server manifest: each track by its file and track id, and the client manifest's name", () => {
    expect(serverManifest('p/s/index.ismc', tracks)).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<smil xmlns="http://www.w3.org/2001/SMIL20/Language">',
        '  <head>',
        '    <meta name="clientManifestRelativePath" content="index.ismc"/>',
        '  </head>',
        '  <body>',
        '    <switch>',
        '      <video src="hi" systemBitrate="900000">',
        '        <param name="trackID" value="1" valuetype="data"/>',
        '      </video>',
        '      <video src="lo" systemBitrate="500000">',
        '        <param name="trackID" value="1" valuetype="data"/>',
        '      </video>',
        '      <audio src="hi" systemBitrate="128000">',
        '        <param name="trackID" value="2" valuetype="data"/>',
        '      </audio>',
        '    </switch>',
        '  </body>',
        '</smil>',
        '',
      ].join('\n'),
    );
  });

  it('starts the timeline at 0 when AAC priming puts the first fragment before it', () => {
    expect(
      toTicks(
        [
          { time: -1024, duration: 88_200 },
          { time: 87_176, duration: 88_200 },
        ],
        44_100,
      ),
    ).toEqual([
      { time: 0, duration: 19_767_800 },
      { time: 19_767_800, duration: 20_000_000 },
    ]);
  });
});
