// Files an attacker uploads to make ffmpeg read something other than the upload itself: playlists and
// scripts that name a local file, often behind an ID3 tag longer than a sniffer looks, so that the upload
// passes as MP3. For tests of the gateway's sniffing and the engine's demuxer allow-list.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FFMPEG, ffmpeg, lavfi } from './media';

const run = promisify(execFile);

/** An ID3v2.4 tag of `size` bytes of padding (the declared size is syncsafe: 7 bits a byte). */
export function id3Tag(size: number): Buffer {
  const header = Buffer.from([
    0x49,
    0x44,
    0x33,
    4,
    0,
    0,
    (size >> 21) & 0x7f,
    (size >> 14) & 0x7f,
    (size >> 7) & 0x7f,
    size & 0x7f,
  ]);
  return Buffer.concat([header, Buffer.alloc(size)]);
}

export const hlsPlaylist = (url: string) =>
  Buffer.from(
    `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:7\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:7.0,\n${url}\n#EXT-X-ENDLIST\n`,
  );

export const ffconcatScript = (file: string) => Buffer.from(`ffconcat version 1.0\nfile '${file}'\n`);

export const sdpSession = () =>
  Buffer.from(
    'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=stream\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n',
  );

export const dashManifest = (url: string) =>
  Buffer.from(
    `<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT7S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">` +
      `<Period><AdaptationSet mimeType="audio/mp2t"><Representation id="a" bandwidth="64000"><BaseURL>${url}</BaseURL></Representation></AdaptationSet></Period></MPD>\n`,
  );

/**
 * Each way of naming `secretPath` from inside an upload. `bytes` is what is uploaded; every one of them
 * must be refused (by the gateway's sniffing or the engine's allow-list) and never read the secret.
 */
export function hostileInputs(secretPath: string): Array<{ name: string; demuxer: string; bytes: Buffer }> {
  const tag = id3Tag(8000);
  return [
    {
      name: 'an HLS playlist behind a long ID3 tag',
      demuxer: 'hls',
      bytes: Buffer.concat([tag, hlsPlaylist(`file://${secretPath}`)]),
    },
    {
      name: 'an ffconcat script behind a long ID3 tag',
      demuxer: 'concat',
      bytes: Buffer.concat([tag, ffconcatScript(secretPath)]),
    },
    {
      name: 'an HLS playlist naming a subfile: URL',
      demuxer: 'hls',
      bytes: Buffer.concat([tag, hlsPlaylist(`subfile,,start,0,end,0,,:${secretPath}`)]),
    },
    {
      name: 'an HLS playlist naming a concat: URL',
      demuxer: 'hls',
      bytes: Buffer.concat([tag, hlsPlaylist(`concat:${secretPath}|${secretPath}`)]),
    },
    { name: 'a bare HLS playlist', demuxer: 'hls', bytes: hlsPlaylist(secretPath) },
    { name: 'a bare ffconcat script', demuxer: 'concat', bytes: ffconcatScript(secretPath) },
    { name: 'an SDP session behind a long ID3 tag', demuxer: 'sdp', bytes: Buffer.concat([tag, sdpSession()]) },
    {
      name: 'a DASH manifest behind a long ID3 tag',
      demuxer: 'dash',
      bytes: Buffer.concat([tag, dashManifest(`file://${secretPath}`)]),
    },
  ];
}

/** The secret: a local MPEG-TS of a 1234 Hz tone, which a leaked output would carry. */
export async function makeSecretMedia(file: string): Promise<string> {
  await ffmpeg([...lavfi('sine=frequency=1234:duration=7'), '-c:a', 'mp2', '-f', 'mpegts', file]);
  return file;
}

/** A real, silent M4A whose metadata holds an HLS playlist naming `secretPath`. */
export async function m4aWithPlaylistMetadata(file: string, secretPath: string): Promise<string> {
  const playlist = hlsPlaylist(`file://${secretPath}`).toString();
  await ffmpeg([
    ...lavfi('anullsrc=r=44100:cl=stereo'),
    ...['-t', '2', '-c:a', 'aac', '-metadata', `comment=${playlist}`, '-metadata', `title=${playlist}`],
    ...['-f', 'ipod', file],
  ]);
  return file;
}

/** Loudest sample of a file's audio in dBFS (-91 or less: silence; a leaked tone: about -18). */
export async function peakVolume(file: string): Promise<number> {
  const { stderr } = await run(FFMPEG, [
    '-hide_banner',
    '-nostats',
    '-i',
    file,
    '-af',
    'volumedetect',
    '-f',
    'null',
    '-',
  ]);
  const m = /max_volume: (-?[\d.]+|-inf) dB/.exec(stderr);
  if (!m) throw new Error(`no volume in ffmpeg's output: ${stderr.slice(-300)}`);
  return m[1] === '-inf' ? -Infinity : Number(m[1]);
}
