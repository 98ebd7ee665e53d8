import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MeterStream, classify, peek, sniff } from './upload';

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

describe('MeterStream', () => {
  it('counts, hashes, and fails past the limit', async () => {
    const ok = new MeterStream(10);
    await new Promise((r) => Readable.from([Buffer.from('hello')]).pipe(ok).on('data', () => {}).on('end', r));
    expect(ok.bytes).toBe(5);
    expect(ok.digest()).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    const over = new MeterStream(3);
    const err = await new Promise((r) => Readable.from([Buffer.from('hello')]).pipe(over).on('error', r).resume());
    expect(err).toMatchObject({ statusCode: 413, code: 'FILE_TOO_LARGE' });
  });
});
