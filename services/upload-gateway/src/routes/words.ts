import { saysUnreadable, type MediaFailure, type MediaKind, type OutputKind } from '@mp/contracts';

// What the page shows a person: each output's format in words, and a failure as what happened and what to do.
// The engine's own text stays available as the detail. Pure.

const HLS = 'application/vnd.apple.mpegurl';

export function outputKind(o: { contentType: string | null; format: string }, mediaKind: MediaKind): OutputKind {
  const type = o.contentType ?? '';
  if (type === HLS || o.format.startsWith('hls')) return 'stream';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('image/')) return 'image';
  return mediaKind;
}

const AUDIO: Record<string, string> = {
  wav: 'WAV audio (uncompressed)',
  flac: 'FLAC audio (lossless)',
  m4a: 'AAC audio',
  mp3: 'MP3 audio',
  ogg: 'Ogg audio',
};

export function outputLabel(
  o: { format: string; contentType: string | null; height: number | null; width: number | null },
  mediaKind: MediaKind,
): string {
  const kind = outputKind(o, mediaKind);
  const lines = o.height ? `${o.height}p` : null;
  if (kind === 'stream') return lines ? `Stream, ${lines}` : 'Stream';
  if (AUDIO[o.format]) return AUDIO[o.format]!;
  if (o.format === 'half') return 'Half-size image';
  const thumb = /^thumb(?:nail)?-?(\d+)?$/.exec(o.format);
  if (thumb) return thumb[1] ? `Small image (${thumb[1]} px)` : 'Small image';
  const container = /^(mp4|webm|mov|mkv)\b/.exec(o.format)?.[1]?.toUpperCase();
  if (kind === 'video') return `${container ?? 'Video'}${container ? ' video' : ''}${lines ? `, ${lines}` : ''}`;
  if (kind === 'audio') return `${o.format.toUpperCase()} audio`;
  if (kind === 'image') return o.width && o.height ? `Image, ${o.width} × ${o.height}` : 'Image';
  return o.format;
}

/** A failed media's reason in words, with the engine's text as the detail. */
export function failureOf(status: string, detail: string | null, kind: MediaKind): MediaFailure | null {
  if (status !== 'failed') return null;
  const text = detail ?? '';
  if (kind === 'image')
    return {
      message:
        'This image could not be read. It may be damaged or in a format this system does not know: try saving it again as JPEG or PNG and upload that.',
      detail,
    };
  if (saysUnreadable(text))
    return {
      message: `This file could not be read as ${kind === 'audio' ? 'audio' : 'audio or video'}. It may be damaged or in a format this system does not know: try exporting it again (as MP3 or WAV for sound, MP4 for video) and upload that.`,
      detail,
    };
  return {
    message: 'This file could not be processed. Upload it again; if that fails too, the details say why.',
    detail,
  };
}
