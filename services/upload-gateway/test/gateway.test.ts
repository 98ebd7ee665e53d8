import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { transcodeJobId } from '@mp/contracts';
import { createDb, media as mediaTable, outputs } from '@mp/db';
import { generateMedia } from '@mp/testbed/media';
import { startGateway, upload, type Running } from './helpers';

let g: Running;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let dir: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  // Parts of 5 MiB (S3's minimum) and a 7 MiB limit: an oversize upload starts a real multipart upload.
  g = await startGateway({ MAX_UPLOAD_BYTES: String(7 * 1024 * 1024), UPLOAD_PART_BYTES: String(5 * 1024 * 1024) });
  alice = await g.user('alice');
  bob = await g.user('bob');
  dir = await mkdtemp(path.join(tmpdir(), 'gw-test-'));
});
afterAll(() => g.close());

async function objectKeys(prefix = '') {
  const page = await g.t.s3Client.send(new ListObjectsV2Command({ Bucket: g.t.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

describe('upload', () => {
  it.each([
    ['mp3', 'audio', 'audio/mpeg'],
    ['mp4', 'video', 'video/mp4'],
    ['png', 'image', 'image/png'],
  ] as const)('stores a %s as %s, hashes it and queues a transcode', async (ext, kind, mime) => {
    const file = await generateMedia(ext, path.join(dir, `sample.${ext}`));
    const bytes = await readFile(file);
    const res = await upload(g.url, alice.token, new Blob([bytes]), `sample.${ext}`);
    expect(res.status).toBe(201);
    const m = res.body as {
      id: string;
      kind: string;
      contentType: string;
      size: number;
      sha256: string;
      status: string;
    };
    expect(m).toMatchObject({ kind, contentType: mime, size: bytes.length, sha256: sha(bytes), status: 'queued' });
    const head = await g.t.s3Client.send(
      new HeadObjectCommand({ Bucket: g.t.bucket, Key: `media/${alice.id}/${m.id}/sample.${ext}` }),
    );
    expect(head.ContentLength).toBe(bytes.length);
    const job = await g.gw.queue.getJob(transcodeJobId(m.id));
    expect(job?.data).toEqual({ mediaId: m.id });
  });

  it('answers 415 for a text file named .mp3 and stores nothing', async () => {
    const before = await objectKeys(`media/${alice.id}/`);
    const res = await upload(
      g.url,
      alice.token,
      new Blob(['this is not audio at all, only text\n'.repeat(50)]),
      'song.mp3',
    );
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(await objectKeys(`media/${alice.id}/`)).toEqual(before);
  });

  it('answers 413 over the limit and leaves no multipart upload or object behind', async () => {
    const wav = await readFile(await generateMedia('wav', path.join(dir, 'big.wav'), { seconds: 1 }));
    const big = Buffer.alloc(12 * 1024 * 1024, 7);
    wav.copy(big);
    const before = await objectKeys();
    const res = await upload(g.url, alice.token, new Blob([big]), 'big.wav').catch((err: Error) => ({
      status: -1,
      body: { err: err.message },
    }));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
    const uploads = await g.t.s3Client.send(new ListMultipartUploadsCommand({ Bucket: g.t.bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await objectKeys()).toEqual(before);
  });

  it('answers 400 for an empty file and for a request with no file', async () => {
    const empty = await upload(g.url, alice.token, new Blob([]), 'empty.mp3');
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'EMPTY_FILE' } } });
    const none = await upload(g.url, alice.token, null, '', { name: 'x' });
    expect(none).toMatchObject({ status: 400, body: { error: { code: 'NO_FILE' } } });
    const notMultipart = await fetch(`${g.url}/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(notMultipart.status).toBe(400);
  });

  it('answers 401 without a token or with a wrong one', async () => {
    const png = new Blob([await readFile(await generateMedia('png', path.join(dir, 'a.png')))]);
    expect((await upload(g.url, null, png, 'a.png')).status).toBe(401);
    expect((await upload(g.url, 'mpt_wrongwrongwrongwrong', png, 'a.png')).status).toBe(401);
    expect((await fetch(`${g.url}/v1/media`)).status).toBe(401);
    const res = await fetch(`${g.url}/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"x"}',
    });
    expect(res.status).toBe(401);
  });

  it.each([
    ['../../etc/passwd.png', 'passwd.png'],
    ['dir/sub/evil.png', 'evil.png'],
    ['bell\u0007\u0000name.png', 'bellname.png'],
    ['photo 日本 é.png', 'photo 日本 é.png'],
  ])('stores the name %j safely as %j', async (name, safe) => {
    const png = new Blob([await readFile(await generateMedia('png', path.join(dir, 'n.png')))]);
    const res = await upload(g.url, alice.token, png, name);
    expect(res.status).toBe(201);
    const m = res.body as { id: string; name: string };
    expect(m.name).toBe(safe);
    expect(await objectKeys(`media/${alice.id}/${m.id}/`)).toEqual([`media/${alice.id}/${m.id}/${safe}`]);
  });
});

describe('reading, downloading, deleting', () => {
  async function uploadedWithOutput() {
    const bytes = await readFile(await generateMedia('mp3', path.join(dir, 'o.mp3')));
    const res = await upload(g.url, alice.token, new Blob([bytes]), 'o.mp3');
    const m = res.body as { id: string };
    // An output as the pipeline records it: an object under transcoded/ and its row.
    const outKey = `transcoded/${alice.id}/${m.id}/o.wav`;
    const outBytes = Buffer.from(`RIFF-output-${m.id}`);
    await g.t.s3Client.send(new PutObjectCommand({ Bucket: g.t.bucket, Key: outKey, Body: outBytes }));
    const dbh = createDb(g.t.databaseUrl, { max: 1 });
    const [o] = await dbh.db
      .insert(outputs)
      .values({ mediaId: m.id, format: 'wav', s3Key: outKey, status: 'complete', size: outBytes.length })
      .returning();
    await dbh.close();
    return { mediaId: m.id, outputId: o!.id, outBytes, outKey };
  }

  it('lists newest first with a cursor', async () => {
    const u = await g.user('lister');
    const png = new Blob([await readFile(await generateMedia('png', path.join(dir, 'l.png')))]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(((await upload(g.url, u.token, png, `l${i}.png`)).body as { id: string }).id);
    const auth = { authorization: `Bearer ${u.token}` };
    const p1 = (await (await fetch(`${g.url}/v1/media?limit=2`, { headers: auth })).json()) as {
      items: { id: string }[];
      nextCursor: string;
    };
    const p2 = (await (await fetch(`${g.url}/v1/media?limit=2&cursor=${p1.nextCursor}`, { headers: auth })).json()) as {
      items: { id: string }[];
      nextCursor: string | null;
    };
    expect([...p1.items, ...p2.items].map((m) => m.id)).toEqual(ids.reverse());
    expect(p2.nextCursor).toBeNull();
    expect((await fetch(`${g.url}/v1/media?cursor=garbage`, { headers: auth })).status).toBe(400);
  });

  it('shows a media with its outputs, and redirects to a presigned URL with the same bytes', async () => {
    const { mediaId, outputId, outBytes } = await uploadedWithOutput();
    const auth = { authorization: `Bearer ${alice.token}` };
    const got = (await (await fetch(`${g.url}/v1/media/${mediaId}`, { headers: auth })).json()) as {
      outputs: { id: string; format: string }[];
    };
    expect(got.outputs).toEqual([expect.objectContaining({ id: outputId, format: 'wav', status: 'complete' })]);
    const res = await fetch(`${g.url}/v1/media/${mediaId}/outputs/${outputId}/download`, {
      headers: auth,
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location).toContain('X-Amz-Signature');
    const dl = await fetch(location);
    expect(dl.status).toBe(200);
    expect(sha(Buffer.from(await dl.arrayBuffer()))).toBe(sha(outBytes));
    const asJson = await fetch(`${g.url}/v1/media/${mediaId}/outputs/${outputId}/download?redirect=false`, {
      headers: auth,
    });
    const { url } = (await asJson.json()) as { url: string };
    expect(sha(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(sha(outBytes));
  });

  it("answers 404 for another user's media, on every route", async () => {
    const { mediaId, outputId } = await uploadedWithOutput();
    const auth = { authorization: `Bearer ${bob.token}` };
    expect((await fetch(`${g.url}/v1/media/${mediaId}`, { headers: auth })).status).toBe(404);
    expect(
      (await fetch(`${g.url}/v1/media/${mediaId}/outputs/${outputId}/download`, { headers: auth, redirect: 'manual' }))
        .status,
    ).toBe(404);
    expect((await fetch(`${g.url}/v1/media/${mediaId}`, { method: 'DELETE', headers: auth })).status).toBe(404);
    const list = (await (await fetch(`${g.url}/v1/media`, { headers: auth })).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    expect((await fetch(`${g.url}/v1/media/not-a-uuid`, { headers: auth })).status).toBe(404);
  });

  it('delete removes the rows (leaving a tombstone), then the objects', async () => {
    const { mediaId, outKey } = await uploadedWithOutput();
    const auth = { authorization: `Bearer ${alice.token}` };
    expect(await objectKeys(`transcoded/${alice.id}/${mediaId}/`)).toEqual([outKey]);
    const res = await fetch(`${g.url}/v1/media/${mediaId}`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(204);
    expect(await objectKeys(`media/${alice.id}/${mediaId}/`)).toEqual([]);
    expect(await objectKeys(`transcoded/${alice.id}/${mediaId}/`)).toEqual([]);
    expect((await fetch(`${g.url}/v1/media/${mediaId}`, { headers: auth })).status).toBe(404);
    const dbh = createDb(g.t.databaseUrl, { max: 1 });
    const rows = await dbh.db.select().from(mediaTable);
    await dbh.close();
    expect(rows.find((r) => r.id === mediaId)).toBeUndefined();
  });
});

describe('service endpoints', () => {
  it('answers healthz, readyz, metrics and docs', async () => {
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${g.url}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', s3: 'ok' } });
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toMatch(/upload_bytes_total\{service="upload-gateway"\} [1-9]/);
    expect(metrics).toContain('http_request_duration_seconds_bucket');
    expect((await fetch(`${g.url}/docs/json`)).status).toBe(200);
    const page = await fetch(`${g.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<script src="/app.js" type="module">');
    // No public URLs configured: the page talks to the origin it was loaded from.
    expect(await (await fetch(`${g.url}/config.json`)).json()).toEqual({ gatewayUrl: g.url, notifierUrl: g.url });
  });
});
