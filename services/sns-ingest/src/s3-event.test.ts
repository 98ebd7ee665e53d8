import { describe, expect, it } from 'vitest';
import type { S3EventRecord } from '@mp/contracts';
import { mediaTypeOf, parseS3Records, s3MessageKind, uploadCandidates } from './s3-event';

const U = '0b9c6f5e-2d3a-4c1b-9e8f-7a6b5c4d3e2f';
const M = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

function record(key: string, over: Partial<S3EventRecord> = {}): S3EventRecord {
  return {
    eventVersion: '2.0',
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    s3: { bucket: { name: 'uploads' }, object: { key, size: 571258 } },
    ...over,
  };
}

describe('uploadCandidates', () => {
  it('takes a created object under media/<user>/<media>/ and decodes + as space', () => {
    const { uploads, ignored } = uploadCandidates([record(`media/${U}/${M}/my+song%2B1.mp3`)], 'uploads');
    expect(ignored).toEqual([]);
    expect(uploads).toEqual([
      { key: `media/${U}/${M}/my song+1.mp3`, userId: U, mediaId: M, name: 'my song+1.mp3', size: 571258 },
    ]);
  });

  it("accepts MinIO's s3: prefixed event names and every ObjectCreated flavour", () => {
    const names = [
      's3:ObjectCreated:Put',
      'ObjectCreated:Post',
      'ObjectCreated:Copy',
      'ObjectCreated:CompleteMultipartUpload',
    ];
    const { uploads } = uploadCandidates(
      names.map((eventName) => record(`media/${U}/${M}/a.mp3`, { eventName })),
      'uploads',
    );
    expect(uploads).toHaveLength(4);
  });

  it.each([
    ['a transcoded output', record(`transcoded/${U}/${M}/song.wav`), 'not-an-upload'],
    ["the seed's flat media/<uuid> key", record('media/5981d6e9-8e88-44a9-bd7b-f8dce886877b'), 'not-an-upload'],
    ['a removal', record(`media/${U}/${M}/a.mp3`, { eventName: 'ObjectRemoved:Delete' }), 'not-created'],
    [
      'another bucket',
      record(`media/${U}/${M}/a.mp3`, { s3: { bucket: { name: 'other' }, object: { key: `media/${U}/${M}/a.mp3` } } }),
      'other-bucket',
    ],
    ['a broken escape', record(`media/${U}/${M}/a%E0%A4%A.mp3`), 'bad-key'],
    ['a name we would not have built', record(`media/${U}/${M}/..hidden.mp3`), 'bad-key'],
    ['an id that is not a uuid', record(`media/../${M}/a.mp3`), 'not-an-upload'],
  ])('ignores %s', (_name, r, reason) => {
    const { uploads, ignored } = uploadCandidates([r], 'uploads');
    expect(uploads).toEqual([]);
    expect(ignored[0]!.reason).toBe(reason);
  });
});

describe('s3MessageKind', () => {
  it('tells records, the configuration test event and anything else apart', () => {
    expect(s3MessageKind({ Records: [] })).toBe('records');
    expect(s3MessageKind({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' })).toBe('test');
    expect(s3MessageKind({ state: 'COMPLETED' })).toBeNull();
  });
});

describe('parseS3Records', () => {
  it('refuses records without an object key', () => {
    const r = parseS3Records({
      Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: {} } }],
    });
    expect(r).toEqual({ ok: false, message: expect.stringMatching(/Records.0.s3.object.key/) });
  });
});

describe('mediaTypeOf', () => {
  it.each([
    ['audio/mpeg', 'x.bin', { kind: 'audio', contentType: 'audio/mpeg' }],
    ['Video/MP4; codecs="avc1"', 'x', { kind: 'video', contentType: 'video/mp4' }],
    ['image/png', 'x', { kind: 'image', contentType: 'image/png' }],
    ['application/octet-stream', 'song.MP3', { kind: 'audio', contentType: 'audio/mpeg' }],
    [undefined, 'clip.mov', { kind: 'video', contentType: 'video/quicktime' }],
    ['application/pdf', 'doc.pdf', null],
    ['text/plain', 'notes', null],
    [undefined, 'constructor', null],
  ])('%j, %j → %j', (contentType, name, out) => {
    expect(mediaTypeOf(contentType, name)).toEqual(out);
  });
});
