import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { id3Tag } from '@mp/testbed/hostile';
import { SNIFF_BYTES } from '../upload';
import { sniffFirstBytes } from './sniff';

/** A PNG signature and header, then filler: enough for file-type to name it. */
const png = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'),
  Buffer.alloc(6000, 7),
]);

/** A request body that arrives in small chunks, as from a network. */
const body = (bytes: Buffer, chunk = 1000) =>
  Readable.from(
    Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk)),
  );

describe('sniffFirstBytes', () => {
  it('decides on the first bytes and leaves every byte on the stream', async () => {
    const req = body(png);
    expect(await sniffFirstBytes(req, png.length, png.length)).toMatchObject({ kind: 'image', mime: 'image/png' });
    expect((await buffer(req)).equals(png)).toBe(true);
  });

  it('answers null when the request carries fewer bytes than the head it needs, and the file is longer', async () => {
    const req = body(png.subarray(0, 100));
    expect(await sniffFirstBytes(req, 100, png.length)).toBeNull();
    expect(await buffer(req)).toHaveLength(100);
  });

  it('decides on a whole file shorter than the head', async () => {
    const small = png.subarray(0, 100);
    expect(await sniffFirstBytes(body(small), small.length, small.length)).toMatchObject({ kind: 'image' });
  });

  it('reads past an ID3 tag longer than the head, and refuses what follows it unless it is audio', async () => {
    const hidden = Buffer.concat([id3Tag(3 * SNIFF_BYTES), png]);
    await expect(sniffFirstBytes(body(hidden), hidden.length, hidden.length)).rejects.toMatchObject({
      statusCode: 415,
    });
    const cut = Buffer.concat([id3Tag(3 * SNIFF_BYTES), png]).subarray(0, 2 * SNIFF_BYTES);
    expect(await sniffFirstBytes(body(cut), cut.length, hidden.length)).toBeNull();
  });

  it('fails, with nothing kept, when the request ends before its first bytes arrived', async () => {
    const req = new Readable({ read() {} });
    req.push(png.subarray(0, 10));
    const sniffing = sniffFirstBytes(req, png.length, png.length);
    req.destroy();
    await expect(sniffing).rejects.toMatchObject({ statusCode: 400, code: 'UPLOAD_INTERRUPTED' });
  });
});
