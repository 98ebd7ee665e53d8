// MPEG-DASH as Elastic Transcoder wrote it: each output of an MPEG-DASH playlist is one fragmented MP4,
// `<OutputKeyPrefix><Key>`, with a segment index (sidx) after its header, and the playlist is the manifest
// `<OutputKeyPrefix><Name>.mpd` in the on-demand profile (ISO/IEC 23009-1): a SegmentBase per
// representation, so a player reads the index and fetches each segment as a byte range. Pure.

import { relativeUri } from './hls';

export interface Box {
  type: string;
  offset: number;
  size: number;
}

/** The top-level boxes of an ISO BMFF file's first bytes (as far as they go). */
export function topLevelBoxes(head: Buffer): Box[] {
  const boxes: Box[] = [];
  let at = 0;
  while (at + 8 <= head.length) {
    let size = head.readUInt32BE(at);
    const type = head.toString('latin1', at + 4, at + 8);
    if (size === 1) {
      if (at + 16 > head.length) break;
      size = Number(head.readBigUInt64BE(at + 8));
    }
    if (size < 8) break;
    boxes.push({ type, offset: at, size });
    at += size;
  }
  return boxes;
}

export interface SegmentIndex {
  timescale: number;
  /** Each subsegment's bytes and duration in the timescale. */
  references: Array<{ size: number; duration: number }>;
}

/** A `sidx` box (ISO/IEC 14496-12, 8.16.3), from its first byte. */
export function parseSidx(box: Buffer): SegmentIndex {
  const version = box[8]!;
  const timescale = box.readUInt32BE(16);
  let at = version === 0 ? 28 : 36;
  const count = box.readUInt16BE(at + 2);
  at += 4;
  const references: SegmentIndex['references'] = [];
  for (let i = 0; i < count; i++) {
    references.push({ size: box.readUInt32BE(at) & 0x7fffffff, duration: box.readUInt32BE(at + 4) });
    at += 12;
  }
  return { timescale, references };
}

export interface DashLayout {
  /** Bytes of ftyp + moov: `Initialization range`. */
  init: { first: number; last: number };
  /** The sidx box: `indexRange`. */
  index: { first: number; last: number };
  segments: Array<{ bytes: number; seconds: number }>;
}

/** Where a fragmented MP4's header and index are, and its segments, from its first bytes. */
export function dashLayout(head: Buffer): DashLayout {
  const boxes = topLevelBoxes(head);
  const moov = boxes.find((b) => b.type === 'moov');
  const sidx = boxes.find((b) => b.type === 'sidx');
  if (!moov || !sidx || sidx.offset + sidx.size > head.length)
    throw new Error('not a fragmented MP4 with a segment index');
  const index = parseSidx(head.subarray(sidx.offset, sidx.offset + sidx.size));
  return {
    init: { first: 0, last: moov.offset + moov.size - 1 },
    index: { first: sidx.offset, last: sidx.offset + sidx.size - 1 },
    segments: index.references.map((r) => ({ bytes: r.size, seconds: r.duration / index.timescale })),
  };
}

export interface DashRepresentation {
  key: string;
  bandwidth: number;
  codecs: string[];
  width?: number;
  height?: number;
  frameRate?: number;
  sampleRate?: number;
  audioOnly: boolean;
  layout: DashLayout;
}

/** Text and attribute values in XML. */
export const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** ISO 8601 duration, as MPD attributes take it: 5.04 → PT5.040S. */
export function isoDuration(seconds: number): string {
  return `PT${seconds.toFixed(3)}S`;
}

/** The manifest `<prefix><Name>.mpd`: one adaptation set for the video representations, one for audio. */
export function dashManifest(
  manifestKey: string,
  representations: DashRepresentation[],
  durationSeconds: number,
): string {
  const maxSegment = Math.max(1, ...representations.flatMap((r) => r.layout.segments.map((s) => s.seconds)));
  const sets = [
    { type: 'video', mime: 'video/mp4', reps: representations.filter((r) => !r.audioOnly) },
    { type: 'audio', mime: 'audio/mp4', reps: representations.filter((r) => r.audioOnly) },
  ].filter((s) => s.reps.length);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="${isoDuration(durationSeconds)}" minBufferTime="${isoDuration(maxSegment)}">`,
    `  <Period id="0" start="PT0S" duration="${isoDuration(durationSeconds)}">`,
  ];
  let id = 0;
  sets.forEach((set, n) => {
    lines.push(
      `    <AdaptationSet id="${n}" contentType="${set.type}" mimeType="${set.mime}" segmentAlignment="true" subsegmentAlignment="true" subsegmentStartsWithSAP="1">`,
    );
    for (const r of [...set.reps].sort((a, b) => b.bandwidth - a.bandwidth)) {
      const attrs = [`id="${id++}"`, `bandwidth="${r.bandwidth}"`, `codecs="${xml(r.codecs.join(','))}"`];
      if (r.width && r.height) attrs.push(`width="${r.width}"`, `height="${r.height}"`);
      if (r.frameRate) attrs.push(`frameRate="${Math.round(r.frameRate * 1000)}/1000"`);
      if (r.sampleRate) attrs.push(`audioSamplingRate="${r.sampleRate}"`);
      lines.push(
        `      <Representation ${attrs.join(' ')}>`,
        `        <BaseURL>${xml(relativeUri(r.key, manifestKey))}</BaseURL>`,
        `        <SegmentBase indexRange="${r.layout.index.first}-${r.layout.index.last}"><Initialization range="${r.layout.init.first}-${r.layout.init.last}"/></SegmentBase>`,
        '      </Representation>',
      );
    }
    lines.push('    </AdaptationSet>');
  });
  lines.push('  </Period>', '</MPD>', '');
  return lines.join('\n');
}
