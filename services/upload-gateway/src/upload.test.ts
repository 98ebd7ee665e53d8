import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { id3Tag, hostileInputs } from '@mp/testbed/hostile';
import { MAX_ID3_BYTES, MeterStream, classify, id3Length, peek, peekMedia, sniff } from './upload';

describe('classify', () => {
  it.each([
    ['audio/mpeg', 'audio'],
    ['audio/flac', 'audio'],
    ['application/ogg', 'audio'],
    ['video/mp4', 'video'],
    ['video/x-matroska', 'video'],
    ['image/png', 'image'],
    ['image/jpeg', 'image'],
    ['image/vnd.adobe.photoshop', null],
    ['application/pdf', null],
    ['text/plain', null],
  ])('%s → %s', (mime, kind) => expect(classify(mime)).toBe(kind));
});

describe('peek', () => {
  it('gives the head and the whole stream back, across chunk boundaries', async () => {
    const parts = [Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')];
    const { head, stream } = await peek(Readable.from(parts), 4);
    expect(head.toString()).toBe('abcd');
    const all: Buffer[] = [];
    for await (const c of stream) all.push(c as Buffer);
    expect(Buffer.concat(all).toString()).toBe('abcdefghij');
  });

  it('handles a stream shorter than the head', async () => {
    const { head, stream } = await peek(Readable.from([Buffer.from('xy')]), 10);
    expect(head.toString()).toBe('xy');
    const all: Buffer[] = [];
    for await (const c of stream) all.push(c as Buffer);
    expect(Buffer.concat(all).toString()).toBe('xy');
  });
});

describe('sniff', () => {
  it('refuses an empty file with 400', async () => {
    await expect(sniff(Buffer.alloc(0))).rejects.toMatchObject({ statusCode: 400, code: 'EMPTY_FILE' });
  });
  it('refuses text with 415', async () => {
    await expect(sniff(Buffer.from('just some text, named song.mp3'))).rejects.toMatchObject({ statusCode: 415 });
  });
  it('recognises a PNG', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    await expect(sniff(png)).resolves.toMatchObject({ mime: 'image/png', kind: 'image' });
  });
});

/** The start of an MPEG-1 Layer III stream: one frame header (128 kb/s, 44.1 kHz) and its body. */
const mp3Frames = () =>
  Buffer.concat(Array.from({ length: 8 }, () => Buffer.concat([Buffer.from('fffb9064', 'hex'), Buffer.alloc(413)])));

describe('id3Length', () => {
  it('reads the syncsafe size, a footer and tags that follow one another', () => {
    expect(id3Length(Buffer.from('no tag here'))).toBe(0);
    expect(id3Length(id3Tag(8000))).toBe(8010);
    expect(id3Length(Buffer.concat([id3Tag(300), id3Tag(40)]))).toBe(360);
    const footer = id3Tag(100);
    footer[5] = 0x10;
    expect(id3Length(footer)).toBe(120);
    // Declared, not read: the header alone tells how far to read.
    expect(id3Length(id3Tag(2_000_000).subarray(0, 10))).toBe(2_000_010);
  });
});

describe('sniff behind an ID3 tag', () => {
  it('accepts MP3 frames behind a tag longer than the first bytes read', async () => {
    await expect(sniff(Buffer.concat([id3Tag(8000), mp3Frames()]))).resolves.toMatchObject({
      mime: 'audio/mpeg',
      kind: 'audio',
    });
  });
  it.each(
    hostileInputs('/etc/secret.ts')
      .filter((h) => h.bytes.subarray(0, 3).toString() === 'ID3')
      .map((h) => [h.name, h.bytes] as const),
  )('refuses %s with 415', async (_name, bytes) => {
    await expect(sniff(bytes)).rejects.toMatchObject({
      statusCode: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringMatching(
        /^The file starts with an ID3 tag, but what follows it is not audio( \(detected [\w/+.-]+\))?\.$/,
      ),
    });
  });
  it('refuses a tag that hides a PNG', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    await expect(sniff(Buffer.concat([id3Tag(50), png]))).rejects.toMatchObject({
      statusCode: 415,
      message: expect.stringContaining('(detected image/png)'),
    });
  });
});

describe('peekMedia', () => {
  it('reads past a long ID3 tag, in small chunks, and gives the whole stream back', async () => {
    const file = Buffer.concat([id3Tag(8000), mp3Frames()]);
    const chunks = Array.from({ length: Math.ceil(file.length / 1000) }, (_, i) =>
      file.subarray(i * 1000, (i + 1) * 1000),
    );
    const { head, stream } = await peekMedia(Readable.from(chunks));
    expect(head.length).toBe(Math.min(file.length, 8010 + 4100));
    await expect(sniff(head)).resolves.toMatchObject({ mime: 'audio/mpeg' });
    const all: Buffer[] = [];
    for await (const c of stream) all.push(c as Buffer);
    expect(Buffer.concat(all).equals(file)).toBe(true);
  });
  it('refuses a tag declared longer than MAX_ID3_BYTES without reading it', async () => {
    const huge = id3Tag(1).subarray(0, 10);
    huge.writeUInt32BE(0x7f7f7f7f, 6); // 256 MiB, syncsafe
    await expect(peekMedia(Readable.from([huge, Buffer.alloc(100)]))).rejects.toMatchObject({
      statusCode: 415,
      message: expect.stringContaining(`${MAX_ID3_BYTES}`),
    });
  });
});

describe('MeterStream', () => {
  it('counts, hashes, and fails past the limit', async () => {
    const ok = new MeterStream(10);
    await new Promise((r) =>
      Readable.from([Buffer.from('hello')])
        .pipe(ok)
        .on('data', () => {})
        .on('end', r),
    );
    expect(ok.bytes).toBe(5);
    expect(ok.digest()).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    const over = new MeterStream(3);
    const err = await new Promise((r) =>
      Readable.from([Buffer.from('hello')])
        .pipe(over)
        .on('error', r)
        .resume(),
    );
    expect(err).toMatchObject({ statusCode: 413, code: 'FILE_TOO_LARGE' });
  });
});
