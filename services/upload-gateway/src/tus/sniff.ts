import type { Readable } from 'node:stream';
import { AppError, type MediaKind } from '@mp/contracts';
import { id3Length, MAX_ID3_BYTES, peek, SNIFF_BYTES, sniff } from '../upload';

export interface SniffedType {
  mime: string;
  ext: string;
  kind: MediaKind;
}

/**
 * The type of a resumable upload from the first bytes of a request that writes at offset 0, read and put back
 * on the request, so the upload receives them unchanged. As peekMedia does for a multipart upload, it looks past
 * ID3 tags. It reads no further than the request's body (`available` bytes): when the body is shorter than the
 * head the type needs (SNIFF_BYTES, or the tags and SNIFF_BYTES after them) and is not the whole file, the
 * answer is null, and the type is decided on the stored bytes once the upload is complete.
 */
export async function sniffFirstBytes(body: Readable, available: number, total: number): Promise<SniffedType | null> {
  const upTo = (n: number) => Math.min(n, available);
  const enough = (n: number, got: number) => got >= n || got >= total;
  let { head } = await untilClosed(body, peek(body, upTo(SNIFF_BYTES)));
  if (!enough(SNIFF_BYTES, head.length)) return null;
  for (let tags = id3Length(head), seen = 0; tags > seen; seen = tags, tags = id3Length(head)) {
    if (tags > MAX_ID3_BYTES) {
      throw new AppError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `The file starts with an ID3 tag longer than ${MAX_ID3_BYTES} bytes.`,
      );
    }
    ({ head } = await untilClosed(body, peek(body, upTo(tags + SNIFF_BYTES))));
    if (!enough(tags + SNIFF_BYTES, head.length)) return null;
  }
  return sniff(head);
}

/** A request cut before its head arrived ends the wait, with nothing stored. */
function untilClosed<T>(body: Readable, p: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onClose = () =>
      reject(new AppError(400, 'UPLOAD_INTERRUPTED', 'The request ended before the first bytes of the file.'));
    body.once('close', onClose);
    p.then(
      (v) => {
        body.off('close', onClose);
        resolve(v);
      },
      (err: unknown) => {
        body.off('close', onClose);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
