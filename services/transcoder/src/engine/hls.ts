// HLS as Elastic Transcoder wrote it (HLSv3): an output with a SegmentDuration is a variant playlist
// `<Key>.m3u8` over segments `<Key>00000.ts`, `<Key>00001.ts`, …, and a job's playlist is a master
// playlist `<OutputKeyPrefix><Name>.m3u8` listing its outputs. Pure: text in, text out.
// https://datatracker.ietf.org/doc/html/rfc8216

export interface Segment {
  /** ffmpeg's local file name, as its playlist names it. */
  file: string;
  seconds: number;
}

/** The segments of a VOD media playlist that ffmpeg's hls muxer wrote, in order. */
export function parseMediaPlaylist(text: string): Segment[] {
  const segments: Segment[] = [];
  let seconds: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const inf = /^#EXTINF:([\d.]+)/.exec(line);
    if (inf) seconds = Number(inf[1]);
    else if (line && !line.startsWith('#')) {
      if (seconds === undefined) throw new Error(`segment ${line} has no #EXTINF`);
      segments.push({ file: line, seconds });
      seconds = undefined;
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

export const variantPlaylistKey = (outputKey: string) => `${outputKey}.m3u8`;
export const masterPlaylistKey = (prefix: string, name: string) => `${prefix}${name}.m3u8`;

/** The last part of a key, as a URI relative to the playlist beside it. */
function relativeUri(key: string, fromKey: string): string {
  const dir = fromKey.slice(0, fromKey.lastIndexOf('/') + 1);
  const rest = key.startsWith(dir) ? key.slice(dir.length) : key.slice(key.lastIndexOf('/') + 1);
  return rest.split('/').map(encodeURIComponent).join('/');
}

/** The variant playlist as stored: the same segments under their S3 names, relative to the playlist. */
export function variantPlaylist(segments: Segment[], outputKey: string, targetSeconds: number, key?: SegmentKey): string {
  const target = Math.max(Math.ceil(targetSeconds), ...segments.map((s) => Math.ceil(s.seconds)));
  const playlistKey = variantPlaylistKey(outputKey);
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    ...(key ? [`#EXT-X-KEY:METHOD=AES-128,URI="${key.uri}",IV=0x${key.iv.toString('hex')}`] : []),
    ...segments.flatMap((s, n) => [`#EXTINF:${s.seconds.toFixed(6)},`, relativeUri(segmentKey(outputKey, n), playlistKey)]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

/** Peak and average bit rates of the written segments, in bits per second (BANDWIDTH, AVERAGE-BANDWIDTH). */
export function measuredBandwidth(segments: Array<{ bytes: number; seconds: number }>): { peak: number; average: number } {
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
  if (c.audio?.codec === 'aac') out.push(c.audio.profile === 'HE-AAC' ? 'mp4a.40.5' : c.audio.profile === 'HE-AACv2' ? 'mp4a.40.29' : 'mp4a.40.2');
  else if (c.audio?.codec === 'mp3') out.push('mp4a.40.34');
  else if (c.audio?.codec === 'ac3') out.push('ac-3');
  return out;
}

export interface Rendition {
  /** The output's key (OutputKeyPrefix + Key). */
  key: string;
  bandwidth: { peak: number; average: number };
  width?: number;
  height?: number;
  codecs: string[];
  frameRate?: number;
}

/** The master playlist `<prefix><Name>.m3u8`: every rendition, by peak bit rate, highest first. */
export function masterPlaylist(masterKey: string, renditions: Rendition[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const r of [...renditions].sort((a, b) => b.bandwidth.peak - a.bandwidth.peak)) {
    const attrs = [`BANDWIDTH=${r.bandwidth.peak}`, `AVERAGE-BANDWIDTH=${r.bandwidth.average}`];
    if (r.width && r.height) attrs.push(`RESOLUTION=${r.width}x${r.height}`);
    if (r.frameRate) attrs.push(`FRAME-RATE=${r.frameRate.toFixed(3)}`);
    if (r.codecs.length) attrs.push(`CODECS="${r.codecs.join(',')}"`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, relativeUri(variantPlaylistKey(r.key), masterKey));
  }
  return `${lines.join('\n')}\n`;
}
