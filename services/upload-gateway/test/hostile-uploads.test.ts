// Uploads that pass as MP3 by a tag longer than the first bytes sniffed, with a playlist or script behind
// it: refused with 415, nothing stored, nothing queued. A real MP3 behind the same tag is accepted.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileInputs, id3Tag } from '@mp/testbed/hostile';
import { generateMedia } from '@mp/testbed/media';
import { startGateway, upload, type Running } from './helpers';

let g: Running;
let alice: { id: string; token: string };
let dir: string;

beforeAll(async () => {
  g = await startGateway();
  alice = await g.user('alice');
  dir = await mkdtemp(path.join(os.tmpdir(), 'gw-hostile-'));
});
afterAll(async () => {
  await g?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function stored(): Promise<string[]> {
  const page = await g.t.s3Client.send(new ListObjectsV2Command({ Bucket: g.t.bucket, Prefix: `media/${alice.id}/` }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

async function listed(): Promise<unknown[]> {
  const res = await fetch(`${g.url}/v1/media`, { headers: { authorization: `Bearer ${alice.token}` } });
  return ((await res.json()) as { items: unknown[] }).items;
}

describe('an upload that hides something else behind an ID3 tag', () => {
  it.each(hostileInputs('/etc/passwd').map((h) => [h.name, h.bytes] as const))(
    '%s is refused with 415, and nothing is kept',
    async (_name, bytes) => {
      const res = await upload(g.url, alice.token, new Blob([bytes]), 'song.mp3');
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({
        error: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: expect.stringMatching(
            /^The file (starts with an ID3 tag, but what follows it is not audio|is not audio, video or an image)/,
          ),
        },
      });
      expect(await stored()).toEqual([]);
      expect(await listed()).toEqual([]);
      expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    },
  );

  it('accepts a real MP3 behind a tag of 8,000 bytes, whole', async () => {
    const mp3 = await readFile(await generateMedia('mp3', path.join(dir, 'song.mp3'), { seconds: 1 }));
    const bytes = Buffer.concat([id3Tag(8000), mp3]);
    const res = await upload(g.url, alice.token, new Blob([bytes]), 'tagged.mp3');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'audio', contentType: 'audio/mpeg', size: bytes.length });
    expect(await stored()).toHaveLength(1);
  });
});
