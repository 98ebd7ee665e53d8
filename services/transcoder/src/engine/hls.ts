// HLS as Elastic Transcoder wrote it (job-settings.md, "Output Key"). HLSv3: an output with a
// SegmentDuration is a media playlist `<Key>.m3u8` over segments `<Key>00000.ts`, `<Key>00001.ts`, …
// HLSv4: one file `<Key>.ts`, a media playlist `<Key>_v4.m3u8` of byte ranges, and for video an I-frame
// playlist `<Key>_iframe.m3u8`. A job's playlist is a master playlist `<OutputKeyPrefix><Name>.m3u8`.
// Pure: text in, text out. https://datatracker.ietf.org/doc/html/rfc8216

export interface Segment {
  /** ffmpeg's local file name, as its playlist names it. */
  file: string;
  seconds: number;
  /** HLSv4: the segment's bytes in the one file (#EXT-X-BYTERANGE). */
  range?: { length: number; offset: number };
}

export type HlsVersion = 3 | 4;

/** The segments of a VOD media playlist that ffmpeg's hls muxer wrote, in order. */
export function parseMediaPlaylist(text: string): Segment[] {
  const segments: Segment[] = [];
  let seconds: number | undefined;
  let range: Segment['range'];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const inf = /^#EXTINF:([\d.]+)/.exec(line);
    const byterange = /^#EXT-X-BYTERANGE:(\d+)@(\d+)/.exec(line);
    if (inf) seconds = Number(inf[1]);
    else if (byterange) range = { length: Number(byterange[1]), offset: Number(byterange[2]) };
    else if (line && !line.startsWith('#')) {
      if (seconds === undefined) throw new Error(`segment ${line} has no #EXTINF`);
      segments.push({ file: line, seconds, ...(range ? { range } : {}) });
      seconds = undefined;
      range = undefined;
    }
  }
  return segments;
}

/** HlsContentProtection aes-128: every segment AES-128-CBC encrypted with this key and IV. */
export interface SegmentKey {
  key: Buffer;
  iv: Buffer;
  /** The EXT-X-KEY URI: the LicenseAcquisitionUrl, or the key object relative to the playlist. */
  uri: string;
}

/** ffmpeg's -hls_key_info_file: the URI it writes, the key file, the IV in hex. Pure. */
export function keyInfo(key: SegmentKey, keyFile: string): string {
  return `${key.uri}\n${keyFile}\n${key.iv.toString('hex')}\n`;
}

/** `<Key>00000.ts`: the five-digit counter from 00000 the service used. */
export function segmentKey(outputKey: string, n: number): string {
  return `${outputKey}${String(n).padStart(5, '0')}.ts`;
}

export const variantPlaylistKey = (outputKey: string, version: HlsVersion = 3) =>
  `${outputKey}${version === 4 ? '_v4' : ''}.m3u8`;
export const singleFileKey = (outputKey: string) => `${outputKey}.ts`;
export const iframePlaylistKey = (outputKey: string) => `${outputKey}_iframe.m3u8`;
export const masterPlaylistKey = (prefix: string, name: string) => `${prefix}${name}.m3u8`;

/**
 * The last part of a key, as a URI relative to the playlist or manifest beside it (keys share its folder: the service's
 * rule).
 */
export function relativeUri(key: string, fromKey: string): string {
  const dir = fromKey.slice(0, fromKey.lastIndexOf('/') + 1);
  const rest = key.startsWith(dir) ? key.slice(dir.length) : key.slice(key.lastIndexOf('/') + 1);
  return rest.split('/').map(encodeURIComponent).join('/');
}

/** The variant playlist as stored: the same segments under their S3 names, relative to the playlist. */
export function variantPlaylist(
  segments: Segment[],
  outputKey: string,
  targetSeconds: number,
  key?: SegmentKey,
): string {
  const target = Math.max(Math.ceil(targetSeconds), ...segments.map((s) => Math.ceil(s.seconds)));
  const v4 = segments.some((s) => s.range);
  const playlistKey = variantPlaylistKey(outputKey, v4 ? 4 : 3);
  const uri = (n: number) => relativeUri(v4 ? singleFileKey(outputKey) : segmentKey(outputKey, n), playlistKey);
  return [
    '#EXTM3U',
    `#EXT-X-VERSION:${v4 ? 4 : 3}`,
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    ...(key ? [`#EXT-X-KEY:METHOD=AES-128,URI="${key.uri}",IV=0x${key.iv.toString('hex')}`] : []),
    ...segments.flatMap((s, n) => [
      `#EXTINF:${s.seconds.toFixed(6)},`,
      ...(s.range ? [`#EXT-X-BYTERANGE:${s.range.length}@${s.range.offset}`] : []),
      uri(n),
    ]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

export interface IFrame {
  seconds: number;
  offset: number;
  length: number;
}

/**
 * The I-frames of one file, from its video packets in order (ffprobe: time, byte position, key flag):
 * each keyframe lasts until the next and spans the bytes up to the next video packet. Pure.
 */
export function iframesOf(
  packets: Array<{ time: number; pos: number; key: boolean }>,
  durationSeconds: number,
  fileSize: number,
): IFrame[] {
  const keys = packets.map((p, i) => ({ ...p, i })).filter((p) => p.key && p.pos >= 0);
  const start = packets[0]?.time ?? 0;
  return keys.map((k, n) => {
    const next = keys[n + 1];
    const after = packets[k.i + 1];
    return {
      seconds: (next ? next.time : start + durationSeconds) - k.time,
      offset: k.pos,
      length: (after && after.pos > k.pos ? after.pos : fileSize) - k.pos,
    };
  });
}

/** `<Key>_iframe.m3u8`: the keyframes of `<Key>.ts` as byte ranges (EXT-X-I-FRAMES-ONLY). */
export function iframePlaylist(frames: IFrame[], outputKey: string): string {
  const uri = relativeUri(singleFileKey(outputKey), iframePlaylistKey(outputKey));
  const target = Math.max(1, ...frames.map((f) => Math.ceil(f.seconds)));
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:4',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-I-FRAMES-ONLY',
    ...frames.flatMap((f) => [`#EXTINF:${f.seconds.toFixed(6)},`, `#EXT-X-BYTERANGE:${f.length}@${f.offset}`, uri]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

/** Peak and average bit rates of the written segments, in bits per second (BANDWIDTH, AVERAGE-BANDWIDTH). */
export function measuredBandwidth(segments: Array<{ bytes: number; seconds: number }>): {
  peak: number;
  average: number;
} {
  const timed = segments.filter((s) => s.seconds > 0);
  if (timed.length === 0) return { peak: 0, average: 0 };
  // A last segment much shorter than the rest overstates its rate (its header bytes dominate); the spec
  // takes the peak over segments all the same, so keep it.
  const peak = Math.max(...timed.map((s) => (s.bytes * 8) / s.seconds));
  const bytes = timed.reduce((n, s) => n + s.bytes, 0);
  const seconds = timed.reduce((n, s) => n + s.seconds, 0);
  return { peak: Math.ceil(peak), average: Math.ceil((bytes * 8) / seconds) };
}

export interface StreamCodecs {
  video?: { codec: string; profile?: string; level?: number };
  audio?: { codec: string; profile?: string };
}

const AVC_PROFILES: Record<string, string> = {
  'Constrained Baseline': '42e0',
  Baseline: '4200',
  Main: '4d40',
  Extended: '5800',
  High: '6400',
};

/** RFC 6381 codec strings for CODECS (avc1.4d401f, mp4a.40.2, …), from ffprobe's names; unknown ones are left out. */
export function codecsAttribute(c: StreamCodecs): string[] {
  const out: string[] = [];
  if (c.video?.codec === 'h264') {
    const profile = AVC_PROFILES[c.video.profile ?? ''] ?? '4d40';
    const level = (c.video.level && c.video.level > 0 ? c.video.level : 31).toString(16).padStart(2, '0');
    out.push(`avc1.${profile}${level}`);
  }
  if (c.audio?.codec === 'aac')
    out.push(c.audio.profile === 'HE-AAC' ? 'mp4a.40.5' : c.audio.profile === 'HE-AACv2' ? 'mp4a.40.29' : 'mp4a.40.2');
  else if (c.audio?.codec === 'mp3') out.push('mp4a.40.34');
  else if (c.audio?.codec === 'ac3') out.push('ac-3');
  return out;
}

export interface Rendition {
  /** The output's key (OutputKeyPrefix + Key). */
  key: string;
  /** Its media playlist. */
  playlistKey: string;
  bandwidth: { peak: number; average: number };
  width?: number;
  height?: number;
  codecs: string[];
  frameRate?: number;
  /** Audio only: an audio rendition group in an HLSv4 master. */
  audioOnly: boolean;
  /** HLSv4 video: its I-frame playlist. */
  iframe?: { playlistKey: string; bandwidth: number };
}

function streamInf(
  r: Rendition,
  extra: { peak?: number; average?: number; codecs?: string[]; audio?: string } = {},
): string {
  const attrs = [
    `BANDWIDTH=${r.bandwidth.peak + (extra.peak ?? 0)}`,
    `AVERAGE-BANDWIDTH=${r.bandwidth.average + (extra.average ?? 0)}`,
  ];
  if (r.width && r.height) attrs.push(`RESOLUTION=${r.width}x${r.height}`);
  if (r.frameRate) attrs.push(`FRAME-RATE=${r.frameRate.toFixed(3)}`);
  const codecs = [...new Set([...r.codecs, ...(extra.codecs ?? [])])];
  if (codecs.length) attrs.push(`CODECS="${codecs.join(',')}"`);
  if (extra.audio) attrs.push(`AUDIO="${extra.audio}"`);
  return `#EXT-X-STREAM-INF:${attrs.join(',')}`;
}

/**
 * The master playlist `<prefix><Name>.m3u8`: every rendition, by peak bit rate, highest first. HLSv4
 * puts audio-only outputs in an audio group that every video rendition plays with (the first one by
 * default, as the service did), and lists each video rendition's I-frame playlist.
 */
export function masterPlaylist(masterKey: string, renditions: Rendition[], version: HlsVersion = 3): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${version}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  const byRate = [...renditions].sort((a, b) => b.bandwidth.peak - a.bandwidth.peak);
  const audio = version === 4 ? renditions.filter((r) => r.audioOnly) : [];
  const streams = audio.length && audio.length < renditions.length ? byRate.filter((r) => !r.audioOnly) : byRate;
  const group = streams.length < renditions.length ? audio : [];
  group.forEach((r, n) => {
    const name = r.key.slice(r.key.lastIndexOf('/') + 1);
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="${name}",AUTOSELECT=YES,DEFAULT=${n === 0 ? 'YES' : 'NO'},URI="${relativeUri(r.playlistKey, masterKey)}"`,
    );
  });
  const loudest = group.length
    ? {
        peak: Math.max(...group.map((r) => r.bandwidth.peak)),
        average: Math.max(...group.map((r) => r.bandwidth.average)),
        codecs: group[0]!.codecs,
        audio: 'audio',
      }
    : {};
  for (const r of streams) lines.push(streamInf(r, loudest), relativeUri(r.playlistKey, masterKey));
  for (const r of streams) {
    if (!r.iframe) continue;
    const attrs = [
      `BANDWIDTH=${r.iframe.bandwidth}`,
      ...(r.width && r.height ? [`RESOLUTION=${r.width}x${r.height}`] : []),
      ...(r.codecs[0] ? [`CODECS="${r.codecs[0]}"`] : []),
    ];
    lines.push(`#EXT-X-I-FRAME-STREAM-INF:${attrs.join(',')},URI="${relativeUri(r.iframe.playlistKey, masterKey)}"`);
  }
  return `${lines.join('\n')}\n`;
}
