import { describe, expect, it } from 'vitest';
import { dashLayout, dashManifest, isoDuration, parseSidx, topLevelBoxes } from './dash';

const box = (type: string, body: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
};

/** A version 0 sidx of timescale 1000 with the given (bytes, milliseconds) references. */
function sidx(refs: Array<[number, number]>): Buffer {
  const body = Buffer.alloc(4 + 4 + 4 + 4 + 4 + 4 + refs.length * 12);
  body.writeUInt32BE(1, 4); // reference_ID
  body.writeUInt32BE(1000, 8); // timescale
  body.writeUInt16BE(refs.length, 22);
  refs.forEach(([size, ms], i) => {
    body.writeUInt32BE(size, 24 + i * 12);
    body.writeUInt32BE(ms, 28 + i * 12);
    body.writeUInt32BE(0x90000000, 32 + i * 12); // starts with SAP, type 1
  });
  return box('sidx', body);
}

describe('fragmented MP4 layout', () => {
  const file = Buffer.concat([
    box('ftyp', Buffer.alloc(24)),
    box('moov', Buffer.alloc(100)),
    sidx([
      [250_000, 2000],
      [120_000, 1000],
    ]),
    box('moof', Buffer.alloc(10)),
  ]);

  it('finds the top-level boxes', () => {
    expect(topLevelBoxes(file).map((b) => [b.type, b.offset, b.size])).toEqual([
      ['ftyp', 0, 32],
      ['moov', 32, 108],
      ['sidx', 140, 56],
      ['moof', 196, 18],
    ]);
  });

  it('reads the segment index', () => {
    expect(parseSidx(file.subarray(140, 196))).toEqual({
      timescale: 1000,
      references: [
        { size: 250_000, duration: 2000 },
        { size: 120_000, duration: 1000 },
      ],
    });
  });

  it('gives the Initialization range, the indexRange and the segments', () => {
    expect(dashLayout(file)).toEqual({
      init: { first: 0, last: 139 },
      index: { first: 140, last: 195 },
      segments: [
        { bytes: 250_000, seconds: 2 },
        { bytes: 120_000, seconds: 1 },
      ],
    });
    expect(() => dashLayout(box('ftyp', Buffer.alloc(4)))).toThrow(/segment index/);
  });
});

describe('dashManifest', () => {
  it('writes an on-demand MPD: video and audio adaptation sets, byte ranges, relative escaped BaseURLs', () => {
    const layout = {
      init: { first: 0, last: 139 },
      index: { first: 140, last: 195 },
      segments: [{ bytes: 1, seconds: 2 }],
    };
    const text = dashManifest(
      'p/dash/index.mpd',
      [
        {
          key: 'p/dash/audio & more',
          bandwidth: 130_000,
          codecs: ['mp4a.40.2'],
          sampleRate: 48000,
          audioOnly: true,
          layout,
        },
        {
          key: 'p/dash/v1',
          bandwidth: 900_000,
          codecs: ['avc1.4d401e'],
          width: 640,
          height: 360,
          frameRate: 30,
          audioOnly: false,
          layout,
        },
      ],
      5.04,
    );
    expect(text).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="PT5.040S" minBufferTime="PT2.000S">',
        '  <Period id="0" start="PT0S" duration="PT5.040S">',
        '    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" subsegmentAlignment="true" subsegmentStartsWithSAP="1">',
        '      <Representation id="0" bandwidth="900000" codecs="avc1.4d401e" width="640" height="360" frameRate="30000/1000">',
        '        <BaseURL>v1</BaseURL>',
        '        <SegmentBase indexRange="140-195"><Initialization range="0-139"/></SegmentBase>',
        '      </Representation>',
        '    </AdaptationSet>',
        '    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" subsegmentAlignment="true" subsegmentStartsWithSAP="1">',
        '      <Representation id="1" bandwidth="130000" codecs="mp4a.40.2" audioSamplingRate="48000">',
        '        <BaseURL>audio%20%26%20more</BaseURL>',
        '        <SegmentBase indexRange="140-195"><Initialization range="0-139"/></SegmentBase>',
        '      </Representation>',
        '    </AdaptationSet>',
        '  </Period>',
        '</MPD>',
        '',
      ].join('\n'),
    );
    expect(isoDuration(61.5)).toBe('PT61.500S');
  });
});
