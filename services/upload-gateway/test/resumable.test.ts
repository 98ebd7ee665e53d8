// Resumable uploads (tus) against the test bed's S3 and Postgres: interrupted and resumed uploads keep every
// byte, the same rules as a multipart upload (413, 415, quota, auth, ownership), one media per upload however
// often its last PATCH is sent, and termination and expiry that leave nothing behind.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { eq } from 'drizzle-orm';
import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcodeJobId } from '@mp/contracts';
import { createDb, media as mediaTable, uploads as uploadsTable } from '@mp/db';
import { eventually } from '@mp/testbed';
import { id3Tag } from '@mp/testbed/hostile';
import { generateMedia } from '@mp/testbed/media';
import { startGateway, type Running } from './helpers';
import { create, head, MiB, patch, patchCut, settledOffset, terminate } from './tus-helpers';

let g: Running;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let dir: string;
let dbh: ReturnType<typeof createDb>;
/** A WAV header and samples, then noise: a 12 MiB file that sniffs as audio and spans three 5 MiB parts. */
let wav: Buffer;
let mp3: Buffer;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  g = await startGateway({
    MAX_UPLOAD_BYTES: String(40 * MiB),
    UPLOAD_PART_BYTES: String(5 * MiB),
    UPLOADS_QUOTA_BYTES: String(64 * MiB),
  });
  alice = await g.user('alice');
  bob = await g.user('bob');
  dir = await mkdtemp(path.join(tmpdir(), 'gw-tus-'));
  dbh = createDb(g.t.databaseUrl);
  const sound = await readFile(await generateMedia('wav', path.join(dir, 'tone.wav'), { seconds: 1 }));
  wav = Buffer.concat([sound, randomBytes(12 * MiB - sound.length)]);
  mp3 = await readFile(await generateMedia('mp3', path.join(dir, 'tone.mp3'), { seconds: 1 }));
});
afterAll(async () => {
  await dbh?.close();
  await g?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const uploadId = (url: string) => url.split('/').pop()!;

async function keysUnder(prefix: string): Promise<string[]> {
  const page = await g.t.s3Client.send(new ListObjectsV2Command({ Bucket: g.t.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

async function openMultipart(prefix: string): Promise<string[]> {
  const page = await g.t.s3Client.send(new ListMultipartUploadsCommand({ Bucket: g.t.bucket, Prefix: prefix }));
  return (page.Uploads ?? []).map((u) => u.Key!);
}

async function objectSha(key: string): Promise<string> {
  const got = await g.t.s3Client.send(new GetObjectCommand({ Bucket: g.t.bucket, Key: key }));
  return sha(Buffer.from(await got.Body!.transformToByteArray()));
}

async function uploadRow(id: string) {
  const [row] = await dbh.db.select().from(uploadsTable).where(eq(uploadsTable.id, id));
  return row ?? null;
}

async function mediaByKey(key: string) {
  return dbh.db.select().from(mediaTable).where(eq(mediaTable.s3Key, key));
}

describe('an interrupted upload, resumed', () => {
  it('keeps every byte through drops inside a part and on a part boundary, and becomes one queued media', async () => {
    const name = 'Ferien/Été 2026 ✓.wav';
    const c = await create(g.url, alice.token, wav.length, { name });
    expect(c.status).toBe(201);
    expect(c.headers.get('tus-resumable')).toBe('1.0.0');
    expect(c.headers.get('upload-expires')).toBeTruthy();
    const url = c.url!;
    const id = uploadId(url);
    const mediaId = c.headers.get('media-id');

    // Cut at 1 MiB + 7 (inside the first part), then exactly on the 5 MiB boundary, then inside the third part.
    let offset = 0;
    for (const cut of [MiB + 7, 5 * MiB, 11 * MiB + 3]) {
      await patchCut(url, alice.token, offset, wav.subarray(offset), cut - offset);
      const now = await settledOffset(url, alice.token);
      expect(now).toBe(cut);
      offset = now;
    }
    const last = await patch(url, alice.token, offset, wav.subarray(offset));
    expect(last.status).toBe(204);
    expect(last.headers.get('upload-offset')).toBe(String(wav.length));
    expect(last.headers.get('media-id')).toBe(mediaId);

    const key = `uploads/${id}`;
    expect(await objectSha(key)).toBe(sha(wav));
    const [m, ...others] = await mediaByKey(key);
    expect(others).toEqual([]);
    expect(m).toMatchObject({
      id: mediaId,
      userId: alice.id,
      name: 'Été 2026 ✓.wav',
      originalName: name,
      kind: 'audio',
      contentType: 'audio/wav',
      size: wav.length,
      status: 'queued',
    });
    expect((await g.gw.queue.getJob(transcodeJobId(m!.id)))?.data).toEqual({ mediaId: m!.id });
    expect((await uploadRow(id))?.completedAt).not.toBeNull();
    // Nothing under media/ (where a new object would be recorded a second time), no part left over.
    expect(await keysUnder(`media/${alice.id}/`)).toEqual([]);
    expect(await keysUnder(key)).toEqual([key, `${key}.info`]);
    expect(await openMultipart(key)).toEqual([]);

    const done = await head(url, alice.token);
    expect([done.status, done.offset]).toEqual([200, wav.length]);
    const listed = (await (
      await fetch(`${g.url}/v1/media/${mediaId}`, { headers: { authorization: `Bearer ${alice.token}` } })
    ).json()) as { size: number; name: string };
    expect(listed).toMatchObject({ size: wav.length, name: 'Été 2026 ✓.wav' });
  });

  it('works with tus-js-client: aborted halfway, resumed from its upload URL', async () => {
    const options = {
      endpoint: `${g.url}/v1/uploads`,
      headers: { authorization: `Bearer ${alice.token}` },
      metadata: { filename: 'client.wav' },
      chunkSize: 6 * MiB,
      retryDelays: [],
    };
    const first = new tus.Upload(wav, options);
    const url = await new Promise<string>((resolve, reject) => {
      first.options.onError = reject;
      first.options.onChunkComplete = () => {
        void first.abort().then(() => resolve(first.url!));
      };
      first.start();
    });
    expect((await head(url, alice.token)).offset).toBe(6 * MiB);
    let sent = 0;
    const second = new tus.Upload(wav, {
      ...options,
      uploadUrl: url,
      onProgress: (bytes) => {
        sent = bytes;
      },
    });
    await new Promise<void>((resolve, reject) => {
      second.options.onError = reject;
      second.options.onSuccess = () => resolve();
      second.start();
    });
    expect(sent).toBe(wav.length);
    expect(await objectSha(`uploads/${uploadId(url)}`)).toBe(sha(wav));
    expect(await mediaByKey(`uploads/${uploadId(url)}`)).toHaveLength(1);
  });

  it('takes the whole file in the creation request (creation-with-upload)', async () => {
    const c = await create(g.url, alice.token, mp3.length, { name: 'tone.mp3', body: mp3 });
    expect(c.status).toBe(201);
    expect(c.headers.get('upload-offset')).toBe(String(mp3.length));
    const [m] = await mediaByKey(`uploads/${uploadId(c.url!)}`);
    expect(m).toMatchObject({ id: c.headers.get('media-id'), kind: 'audio', contentType: 'audio/mpeg' });
  });
});

describe('the last PATCH retried', () => {
  it('gives one media and one transcode job, however often it is sent', async () => {
    const c = await create(g.url, alice.token, mp3.length, { name: 'twice.mp3' });
    const url = c.url!;
    const half = Math.floor(mp3.length / 2);
    expect((await patch(url, alice.token, 0, mp3.subarray(0, half))).status).toBe(204);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await patch(url, alice.token, half, mp3.subarray(half)));
    expect(answers[0]!.status).toBe(204);
    // The retries find the upload complete: an offset conflict, and no second media.
    expect(answers.slice(1).map((a) => [a.status, a.body?.error?.code])).toEqual([
      [409, 'OFFSET_CONFLICT'],
      [409, 'OFFSET_CONFLICT'],
    ]);
    const key = `uploads/${uploadId(url)}`;
    const rows = await mediaByKey(key);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(c.headers.get('media-id'));
    expect(await g.gw.queue.getJob(transcodeJobId(rows[0]!.id))).toBeTruthy();
  });
});

describe('the rules of a multipart upload', () => {
  it('answers 413 at creation for an Upload-Length over the size limit, and creates nothing', async () => {
    const c = await create(g.url, alice.token, 40 * MiB + 1, { name: 'big.wav' });
    expect(c.status).toBe(413);
    expect(c.body).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
    expect(c.url).toBeNull();
  });

  it('answers 413 past the per-user quota of bytes in flight, and takes uploads again once one is gone', async () => {
    const first = await create(g.url, bob.token, 40 * MiB, { name: 'a.wav' });
    expect(first.status).toBe(201);
    const second = await create(g.url, bob.token, 30 * MiB, { name: 'b.wav' });
    expect(second.status).toBe(413);
    expect(second.body).toMatchObject({ error: { code: 'UPLOAD_QUOTA_EXCEEDED' } });
    expect((await create(g.url, alice.token, 30 * MiB, { name: 'c.wav' })).status).toBe(201);
    expect((await terminate(first.url!, bob.token)).status).toBe(204);
    expect((await create(g.url, bob.token, 30 * MiB, { name: 'b.wav' })).status).toBe(201);
  });

  it('refuses uploads of unknown length (creation-defer-length)', async () => {
    const res = await fetch(`${g.url}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'tus-resumable': '1.0.0', 'upload-defer-length': '1' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'LENGTH_REQUIRED' } });
    const options = await fetch(`${g.url}/v1/uploads`, {
      method: 'OPTIONS',
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(options.headers.get('tus-extension')?.split(',')).toEqual(
      expect.not.arrayContaining(['creation-defer-length']),
    );
    expect(options.headers.get('tus-extension')).toContain('creation-with-upload');
    expect(options.headers.get('tus-max-size')).toBe(String(40 * MiB));
  });

  it('answers 415 for a text file at its first bytes, and removes the upload', async () => {
    const text = Buffer.from('not audio, only text\n'.repeat(400));
    const c = await create(g.url, alice.token, text.length, { name: 'song.mp3' });
    const res = await patch(c.url!, alice.token, 0, text);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const id = uploadId(c.url!);
    expect(await uploadRow(id)).toBeNull();
    expect(await keysUnder(`uploads/${id}`)).toEqual([]);
    expect(await openMultipart(`uploads/${id}`)).toEqual([]);
    expect((await head(c.url!, alice.token)).status).toBe(404);
  });

  it('answers 415 for a text body in the creation request, and creates nothing', async () => {
    const before = await dbh.db.select().from(uploadsTable);
    const text = Buffer.from('plain text\n'.repeat(500));
    const c = await create(g.url, alice.token, text.length, { name: 'a.mp3', body: text });
    expect(c.status).toBe(415);
    expect(c.body).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(await dbh.db.select().from(uploadsTable)).toHaveLength(before.length);
  });

  it('looks behind a long ID3 tag: a playlist behind it is refused, an MP3 behind it becomes a media', async () => {
    const tag = id3Tag(64 * 1024);
    const playlist = Buffer.concat([tag, Buffer.from('#EXTM3U\n#EXTINF:7.0,\nfile:///etc/passwd\n'.repeat(200))]);
    const bad = await create(g.url, alice.token, playlist.length, { name: 'hidden.mp3' });
    const refused = await patch(bad.url!, alice.token, 0, playlist);
    expect(refused.status).toBe(415);
    expect(await uploadRow(uploadId(bad.url!))).toBeNull();

    const song = Buffer.concat([tag, mp3]);
    const good = await create(g.url, alice.token, song.length, { name: 'tagged.mp3' });
    expect((await patch(good.url!, alice.token, 0, song)).status).toBe(204);
    const [m] = await mediaByKey(`uploads/${uploadId(good.url!)}`);
    expect(m).toMatchObject({ kind: 'audio', contentType: 'audio/mpeg' });
  });

  it('decides on the stored bytes when the first request is too short to: a text file is refused at the end', async () => {
    const text = Buffer.from('still not audio\n'.repeat(1000));
    const c = await create(g.url, alice.token, text.length, { name: 'slow.mp3' });
    expect((await patch(c.url!, alice.token, 0, text.subarray(0, 100))).status).toBe(204);
    const last = await patch(c.url!, alice.token, 100, text.subarray(100));
    expect(last.status).toBe(415);
    const id = uploadId(c.url!);
    expect(await mediaByKey(`uploads/${id}`)).toEqual([]);
    expect(await keysUnder(`uploads/${id}`)).toEqual([]);
    expect(await uploadRow(id)).toBeNull();
  });

  it('answers 401 without a valid token, on every method', async () => {
    const c = await create(g.url, alice.token, mp3.length, { name: 'mine.mp3' });
    expect((await create(g.url, null, 10, { name: 'x.mp3' })).status).toBe(401);
    const noToken = [await head(c.url!, null), await patch(c.url!, null, 0, mp3), await terminate(c.url!, 'nope')];
    expect(noToken.map((a) => [a.status, a.body?.error?.code ?? null])).toEqual([
      [401, null], // a HEAD answer has no body
      [401, 'UNAUTHENTICATED'],
      [401, 'UNAUTHENTICATED'],
    ]);
    expect((await head(c.url!, alice.token)).offset).toBe(0);
  });

  it("answers 404 for another user's upload on every method, and leaves it as it was", async () => {
    const c = await create(g.url, alice.token, mp3.length, { name: 'private.mp3' });
    const url = c.url!;
    expect((await patch(url, alice.token, 0, mp3.subarray(0, 5000))).status).toBe(204);
    const asBob = [await head(url, bob.token), await patch(url, bob.token, 5000, mp3), await terminate(url, bob.token)];
    expect(asBob.map((a) => a.status)).toEqual([404, 404, 404]);
    expect(asBob[1]!.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await head(`${g.url}/v1/uploads/not-an-id`, alice.token)).status).toBe(404);
    expect((await head(url, alice.token)).offset).toBe(5000);
  });
});

describe('the OpenAPI document', () => {
  it('lists every tus method of /v1/uploads', async () => {
    const doc = (await (await fetch(`${g.url}/docs/json`)).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths['/v1/uploads'] ?? {}).sort()).toEqual(['options', 'post']);
    expect(Object.keys(doc.paths['/v1/uploads/{id}'] ?? {}).sort()).toEqual(['delete', 'head', 'patch']);
  });
});

describe('termination', () => {
  it('removes an unfinished upload: its multipart upload, objects and row', async () => {
    const c = await create(g.url, alice.token, wav.length, { name: 'gone.wav' });
    const id = uploadId(c.url!);
    await patchCut(c.url!, alice.token, 0, wav, 6 * MiB);
    await settledOffset(c.url!, alice.token);
    expect(await openMultipart(`uploads/${id}`)).toEqual([`uploads/${id}`]);
    expect((await terminate(c.url!, alice.token)).status).toBe(204);
    expect(await keysUnder(`uploads/${id}`)).toEqual([]);
    expect(await openMultipart(`uploads/${id}`)).toEqual([]);
    expect(await uploadRow(id)).toBeNull();
    expect((await head(c.url!, alice.token)).status).toBe(404);
  });
});

describe('expiry', () => {
  let short: Running;
  beforeAll(async () => {
    // A second gateway on the same database and bucket whose uploads expire after 1.5 s.
    short = await startGateway(
      {
        UPLOAD_PART_BYTES: String(5 * MiB),
        UPLOAD_EXPIRY_HOURS: String(1.5 / 3600),
        UPLOAD_EXPIRY_SWEEP_MS: '200',
      },
      g.t,
    );
  });
  afterAll(() => short?.close());

  it('removes an abandoned upload: S3 multipart upload aborted, parts, objects and row gone', async () => {
    const c = await create(short.url, alice.token, wav.length, { name: 'abandoned.wav' });
    const id = uploadId(c.url!);
    await patchCut(c.url!, alice.token, 0, wav, 6 * MiB + 11);
    expect(await openMultipart(`uploads/${id}`)).toEqual([`uploads/${id}`]);
    await eventually(async () => (await uploadRow(id)) === null, { timeoutMs: 15_000 });
    expect(await keysUnder(`uploads/${id}`)).toEqual([]);
    expect(await openMultipart(`uploads/${id}`)).toEqual([]);
    expect((await head(c.url!, alice.token)).status).toBe(404);
    expect((await patch(c.url!, alice.token, 0, wav.subarray(0, 10))).status).toBe(404);
  });

  it("keeps a finished upload's media and object, and drops the rest", async () => {
    const c = await create(short.url, alice.token, mp3.length, { name: 'kept.mp3', body: mp3 });
    const id = uploadId(c.url!);
    expect(c.status).toBe(201);
    await eventually(async () => (await uploadRow(id)) === null, { timeoutMs: 15_000 });
    expect(await keysUnder(`uploads/${id}`)).toEqual([`uploads/${id}`]);
    expect(await mediaByKey(`uploads/${id}`)).toHaveLength(1);
  });
});
