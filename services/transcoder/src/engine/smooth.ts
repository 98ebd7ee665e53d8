// Smooth Streaming as Elastic Transcoder wrote it: each output of a Smooth playlist is one fragmented MP4
// (`<OutputKeyPrefix><Key>`, ffmpeg's ismv muxer: a tfxd box in every fragment), and the playlist is the
// server manifest `<Name>.ism` (SMIL) and the client manifest `<Name>.ismc` that players read: per stream
// its quality levels (bit rate, codec private data) and the fragments' start times and durations.
// [MS-SSTR] https://learn.microsoft.com/openspecs/windows_protocols/ms-sstr/ . Pure: bytes in, text out.

import { xml } from './dash';

/** One box: its type, where it starts, its size and where its payload starts. */
export interface IsoBox {
  type: string;
  offset: number;
  size: number;
  body: number;
}

/** The boxes directly inside `buf[start, end)`. */
export function childBoxes(buf: Buffer, start = 0, end = buf.length): IsoBox[] {
  const out: IsoBox[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = buf.readUInt32BE(at);
    let body = at + 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(at + 8));
      body = at + 16;
    } else if (size === 0) size = end - at;
    if (size < 8 || at + size > end) break;
    out.push({ type: buf.toString('latin1', at + 4, at + 8), offset: at, size, body });
    at += size;
  }
  return out;
}

/** The first box found along a path of types (`moov/trak/mdia/mdhd`). */
export function findBox(buf: Buffer, path: string[], start = 0, end = buf.length): IsoBox | undefined {
  const [first, ...rest] = path;
  const box = childBoxes(buf, start, end).find((b) => b.type === first);
  if (!box || rest.length === 0) return box;
  // Sample entries carry fields before their child boxes: avc1 78 bytes, mp4a 28; stsd 8.
  const skip = first === 'stsd' ? 8 : first === 'avc1' ? 78 : first === 'mp4a' ? 28 : 0;
  return findBox(buf, rest, box.body + skip, box.offset + box.size);
}

const TFXD = '6d1d9b0542d544e680e2141daff757b2';

/** A fragment's track and its tfxd box (absolute time and duration, in the track's timescale), from its moof. */
export function fragmentTime(moof: Buffer): { trackId: number; time: number; duration: number } | undefined {
  const traf = findBox(moof, ['moof', 'traf']);
  const tfhd = findBox(moof, ['moof', 'traf', 'tfhd']);
  if (!traf || !tfhd) return undefined;
  const trackId = moof.readUInt32BE(tfhd.body + 4);
  const uuid = childBoxes(moof, traf.body, traf.offset + traf.size).find(
    (b) => b.type === 'uuid' && moof.toString('hex', b.body, b.body + 16) === TFXD,
  );
  if (!uuid) return undefined;
  const at = uuid.body + 16;
  const version = moof[at]!;
  return version === 1
    ? { trackId, time: Number(moof.readBigInt64BE(at + 4)), duration: Number(moof.readBigUInt64BE(at + 12)) }
    : { trackId, time: moof.readUInt32BE(at + 4), duration: moof.readUInt32BE(at + 8) };
}

export interface SmoothTrack {
  type: 'video' | 'audio';
  trackId: number;
  timescale: number;
  /** [MS-SSTR] CodecPrivateData: H.264 SPS and PPS in Annex B, or AAC's AudioSpecificConfig, in hex. */
  codecPrivateData: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

/** The tracks of an ismv file's moov (video, audio, or both). */
export function smoothTracks(moov: Buffer): SmoothTrack[] {
  const root = findBox(moov, ['moov'])!;
  return childBoxes(moov, root.body, root.offset + root.size)
    .filter((b) => b.type === 'trak')
    .map((trak) => smoothTrack(moov.subarray(trak.offset, trak.offset + trak.size)));
}

/** One `trak` box, from its first byte. */
function smoothTrack(trak: Buffer): SmoothTrack {
  const tkhd = findBox(trak, ['trak', 'tkhd'])!;
  const trackId = trak.readUInt32BE(tkhd.body + (trak[tkhd.body] === 1 ? 20 : 12));
  const mdhd = findBox(trak, ['trak', 'mdia', 'mdhd'])!;
  const timescale = trak.readUInt32BE(mdhd.body + (trak[mdhd.body] === 1 ? 20 : 12));
  const moov = trak;
  const stsd = ['trak', 'mdia', 'minf', 'stbl', 'stsd'];
  const avc1 = findBox(moov, [...stsd, 'avc1']);
  if (avc1) {
    const avcC = findBox(moov, [...stsd, 'avc1', 'avcC'])!;
    return {
      type: 'video',
      trackId,
      timescale,
      codecPrivateData: annexB(moov.subarray(avcC.body, avcC.offset + avcC.size)),
      width: moov.readUInt16BE(avc1.body + 24),
      height: moov.readUInt16BE(avc1.body + 26),
    };
  }
  const mp4a = findBox(moov, [...stsd, 'mp4a']);
  if (!mp4a) throw new Error('neither H.264 nor AAC: not a Smooth Streaming track');
  const esds = findBox(moov, [...stsd, 'mp4a', 'esds'])!;
  return {
    type: 'audio',
    trackId,
    timescale,
    codecPrivateData: decoderSpecificInfo(moov.subarray(esds.body + 4, esds.offset + esds.size))
      .toString('hex')
      .toUpperCase(),
    channels: moov.readUInt16BE(mp4a.body + 16),
    sampleRate: moov.readUInt32BE(mp4a.body + 24) >>> 16,
  };
}

/** avcC → `00000001<SPS>00000001<PPS>` (ISO/IEC 14496-15, 5.3.3.1). */
function annexB(avcC: Buffer): string {
  const nals: Buffer[] = [];
  let at = 5;
  const sps = avcC[at++]! & 0x1f;
  for (let i = 0; i < sps; i++) {
    const len = avcC.readUInt16BE(at);
    nals.push(avcC.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  const pps = avcC[at++]!;
  for (let i = 0; i < pps; i++) {
    const len = avcC.readUInt16BE(at);
    nals.push(avcC.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return nals
    .map((n) => `00000001${n.toString('hex')}`)
    .join('')
    .toUpperCase();
}

/** The DecoderSpecificInfo (tag 5) inside an ES_Descriptor (ISO/IEC 14496-1, 7.2.6). */
function decoderSpecificInfo(es: Buffer): Buffer {
  let at = 0;
  while (at < es.length) {
    const tag = es[at++]!;
    let len = 0;
    for (let i = 0; i < 4; i++) {
      const b = es[at++]!;
      len = (len << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    if (tag === 0x05) return es.subarray(at, at + len);
    // Descend into ES_Descriptor (3) and DecoderConfigDescriptor (4); skip what else there is.
    if (tag === 0x03) at += 3;
    else if (tag === 0x04) at += 13;
    else at += len;
  }
  throw new Error('no AudioSpecificConfig in esds');
}

/** One track of one output file. */
export interface SmoothQuality {
  key: string;
  /** Measured on the track's fragments, bits per second. */
  bitrate: number;
  track: SmoothTrack;
  /** Start and duration of each fragment, in 100 ns units. */
  chunks: Array<{ time: number; duration: number }>;
}

const baseName = (key: string) => key.slice(key.lastIndexOf('/') + 1);
const TICKS = 10_000_000;

/**
 * The tracks a playlist's manifests list: every video track, and the audio of the first output that has
 * audio only (a Smooth ladder muxes the same audio into every rendition; players want it once).
 */
export function manifestTracks(perOutput: SmoothQuality[][]): SmoothQuality[] {
  const all = perOutput.flat();
  const audio = all.find((q) => q.track.type === 'audio');
  return [...all.filter((q) => q.track.type === 'video'), ...(audio ? [audio] : [])];
}

/** The client manifest `<Name>.ismc`: a stream index per type, its quality levels and chunks. */
export function clientManifest(qualities: SmoothQuality[]): string {
  const duration = Math.max(0, ...qualities.map((q) => q.chunks.reduce((t, c) => Math.max(t, c.time + c.duration), 0)));
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<SmoothStreamingMedia MajorVersion="2" MinorVersion="0" TimeScale="${TICKS}" Duration="${duration}">`,
  ];
  for (const type of ['video', 'audio'] as const) {
    const levels = qualities.filter((q) => q.track.type === type).sort((a, b) => b.bitrate - a.bitrate);
    if (!levels.length) continue;
    const chunks = levels[0]!.chunks;
    const size =
      type === 'video'
        ? ` MaxWidth="${Math.max(...levels.map((l) => l.track.width ?? 0))}" MaxHeight="${Math.max(...levels.map((l) => l.track.height ?? 0))}"`
        : '';
    lines.push(
      `  <StreamIndex Type="${type}" Name="${type}" Chunks="${chunks.length}" QualityLevels="${levels.length}" Url="QualityLevels({bitrate})/Fragments(${type}={start time})"${size}>`,
    );
    levels.forEach((l, i) => {
      const t = l.track;
      const attrs =
        type === 'video'
          ? `FourCC="H264" MaxWidth="${t.width}" MaxHeight="${t.height}"`
          : `FourCC="AACL" SamplingRate="${t.sampleRate}" Channels="${t.channels}" BitsPerSample="16" PacketSize="4" AudioTag="255"`;
      lines.push(
        `    <QualityLevel Index="${i}" Bitrate="${l.bitrate}" ${attrs} CodecPrivateData="${t.codecPrivateData}"/>`,
      );
    });
    for (const c of chunks) lines.push(`    <c t="${c.time}" d="${c.duration}"/>`);
    lines.push('  </StreamIndex>');
  }
  lines.push('</SmoothStreamingMedia>', '');
  return lines.join('\n');
}

/**
 * The server manifest `<Name>.ism` (SMIL 2.0): every output, with its bit rate and track, and the client manifest's
 * name.
 */
export function serverManifest(clientManifestKey: string, qualities: SmoothQuality[]): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<smil xmlns="http://www.w3.org/2001/SMIL20/Language">',
    '  <head>',
    `    <meta name="clientManifestRelativePath" content="${xml(baseName(clientManifestKey))}"/>`,
    '  </head>',
    '  <body>',
    '    <switch>',
  ];
  for (const q of [...qualities].sort((a, b) =>
    a.track.type === b.track.type ? b.bitrate - a.bitrate : a.track.type === 'video' ? -1 : 1,
  )) {
    lines.push(
      `      <${q.track.type} src="${xml(baseName(q.key))}" systemBitrate="${q.bitrate}">`,
      `        <param name="trackID" value="${q.track.trackId}" valuetype="data"/>`,
      `      </${q.track.type}>`,
    );
  }
  lines.push('    </switch>', '  </body>', '</smil>', '');
  return lines.join('\n');
}

/**
 * Fragment times in the track's timescale → 100 ns units. An AAC encoder's priming starts the first audio
 * fragment a little before 0; a Smooth timeline starts at 0, so that fragment starts at 0 and is shorter.
 */
export function toTicks(
  chunks: Array<{ time: number; duration: number }>,
  timescale: number,
): Array<{ time: number; duration: number }> {
  const k = TICKS / timescale;
  return chunks.map((c) => {
    const start = Math.round(c.time * k);
    const end = Math.round((c.time + c.duration) * k);
    return { time: Math.max(0, start), duration: end - Math.max(0, start) };
  });
}
