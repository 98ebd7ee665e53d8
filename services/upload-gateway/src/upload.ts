import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { AppError, type MediaKind } from '@mp/contracts';

/** Bytes read before deciding the type: enough for every container file-type knows. */
export const SNIFF_BYTES = 4100;
/** The longest ID3v2 tags looked past (cover art makes them long); a longer one is refused. */
export const MAX_ID3_BYTES = 16 * 1024 * 1024;

const IMAGE_TYPES = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/tiff',
  'image/avif',
  'image/heic',
  'image/heif',
]);
const AUDIO_CONTAINERS = new Set(['application/ogg', 'audio/ogg', 'audio/opus']);
const VIDEO_CONTAINERS = new Set(['application/mxf', 'video/mp2t']);

/** Media kind of a sniffed MIME type, or null when we do not process it. Pure. */
export function classify(mime: string): MediaKind | null {
  if (IMAGE_TYPES.has(mime)) return 'image';
  if (AUDIO_CONTAINERS.has(mime) || mime.startsWith('audio/')) return 'audio';
  if (VIDEO_CONTAINERS.has(mime) || mime.startsWith('video/')) return 'video';
  return null;
}

/**
 * Reads the first bytes of a stream and puts them back (unshift), so the same stream carries the whole
 * file on, with no extra copy or async-iterator hop for the gigabytes that follow.
 */
export function peek(source: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (ended: boolean) => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('error', onError);
      const head = Buffer.concat(chunks, size);
      if (ended) {
        resolve({ head, stream: Readable.from(head.length ? [head] : []) });
        return;
      }
      if (head.length) source.unshift(head);
      resolve({ head: head.subarray(0, n), stream: source });
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (size < n && (chunk = source.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        size += chunk.length;
      }
      if (size >= n) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = (err: Error) => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      reject(err);
    };
    source.on('readable', onReadable);
    source.once('end', onEnd);
    source.once('error', onError);
  });
}

/**
 * Length of the ID3v2 tags at the start of a file (0 without one): 10 header bytes, the declared size
 * (syncsafe, 7 bits a byte) and a footer when flagged. Tags may follow one another. Pure.
 * https://id3.org/id3v2.4.0-structure
 */
export function id3Length(head: Buffer): number {
  let at = 0;
  while (head.length >= at + 10 && head.toString('latin1', at, at + 3) === 'ID3') {
    const size =
      ((head[at + 6]! & 0x7f) << 21) |
      ((head[at + 7]! & 0x7f) << 14) |
      ((head[at + 8]! & 0x7f) << 7) |
      (head[at + 9]! & 0x7f);
    at += 10 + size + (head[at + 5]! & 0x10 ? 10 : 0);
  }
  return at;
}

/**
 * The first bytes to decide a file's type by: SNIFF_BYTES, or, behind ID3 tags, the tags and SNIFF_BYTES
 * after them (a tag longer than a sniffer looks would hide whatever follows it). The stream carries the
 * whole file on.
 */
export async function peekMedia(source: Readable): Promise<{ head: Buffer; stream: Readable }> {
  let peeked = await peek(source, SNIFF_BYTES);
  for (let tags = id3Length(peeked.head), seen = 0; tags > seen; seen = tags, tags = id3Length(peeked.head)) {
    if (tags > MAX_ID3_BYTES) {
      throw new AppError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `The file starts with an ID3 tag longer than ${MAX_ID3_BYTES} bytes.`,
      );
    }
    // A tag may declare a size past what was read; read up to there, and on into what follows it.
    peeked = await peek(peeked.stream, tags + SNIFF_BYTES);
  }
  return peeked;
}

export async function sniff(head: Buffer): Promise<{ mime: string; ext: string; kind: MediaKind }> {
  if (head.length === 0) throw new AppError(400, 'EMPTY_FILE', 'The uploaded file is empty.');
  const tags = id3Length(head);
  if (tags > 0) return sniffBehindId3(head.subarray(tags));
  const type = await fileTypeFromBuffer(head);
  const kind = type ? classify(type.mime) : null;
  if (!type || !kind) {
    throw new AppError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `The file is not audio, video or an image${type ? ` (detected ${type.mime})` : ''}.`,
    );
  }
  return { mime: type.mime, ext: type.ext, kind };
}

/** An ID3 tag is only the start of an audio file: what follows it must be audio itself. */
async function sniffBehindId3(rest: Buffer): Promise<{ mime: string; ext: string; kind: MediaKind }> {
  const type = rest.length ? await fileTypeFromBuffer(rest) : undefined;
  if (!type || classify(type.mime) !== 'audio') {
    throw new AppError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `The file starts with an ID3 tag, but what follows it is not audio${type ? ` (detected ${type.mime})` : ''}.`,
    );
  }
  return { mime: type.mime, ext: type.ext, kind: 'audio' };
}

/**
 * Counts and hashes bytes as they pass; fails with 413 as soon as the limit is crossed, so the
 * S3 upload is aborted without reading the rest.
 */
export class MeterStream extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(new AppError(413, 'FILE_TOO_LARGE', `The file exceeds the upload limit of ${this.limit} bytes.`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}
