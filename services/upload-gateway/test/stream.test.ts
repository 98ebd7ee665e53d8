// Streams, previews and the page's words against real Postgres, Redis and S3: a video's HLS playlists served to
// its owner only with short-lived segment links, the original file name kept, and a delete taking the media's
// notifications with it.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { MediaWithOutputs, StreamLink } from '@mp/contracts';
import { MediaRepository, TranscodeJobRepository, createDb, notifications, type DbHandle } from '@mp/db';
import { outputPrefix } from '@mp/storage';
import { FFMPEG, generateMedia } from '@mp/testbed/media';
import { eq } from 'drizzle-orm';
import { downloadName } from '../src/media.service';
import { issuePlaybackToken } from '../src/stream/playback-token';
import { startGateway, upload, type Running } from './helpers';

const run = promisify(execFile);
const SECRET = 'stream-test-secret-0123456789';
let g: Running;
let dbh: DbHandle;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let dir: string;
let video: string;
let segments: Map<string, Buffer>;

const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** A complete video of `userId` whose stream folder holds a master over one muxed rendition, as the engine writes. */
async function seedVideo(userId: string): Promise<string> {
  const id = randomUUID();
  const repo = new MediaRepository(dbh.db);
  await repo.insert({
    id,
    userId,
    name: 'clip.mp4',
    originalName: 'clip.mp4',
    kind: 'video',
    contentType: 'video/mp4',
    size: 1,
    s3Key: `media/${userId}/${id}/clip.mp4`,
  });
  const prefix = outputPrefix(userId, id);
  const put = (key: string, body: Buffer | string) =>
    g.t.s3Client.send(new PutObjectCommand({ Bucket: g.t.bucket, Key: prefix + key, Body: body }));
  await put('hls/index.m3u8', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=320x240\n1m.m3u8\n');
  await put('hls/1m.m3u8', await readFile(path.join(dir, 'hls', '1m.m3u8')));
  for (const [name, bytes] of segments) await put(`hls/${name}`, bytes);
  await put('clip-480p-00001.png', await readFile(path.join(dir, 'poster.png')));
  await new TranscodeJobRepository(dbh.db).recordOutputs([
    {
      mediaId: id,
      format: 'hls-1m',
      s3Key: `${prefix}hls/1m`,
      contentType: 'application/vnd.apple.mpegurl',
      status: 'complete',
      width: 320,
      height: 240,
    },
    {
      mediaId: id,
      format: 'mp4-480p',
      s3Key: `${prefix}clip-480p.mp4`,
      contentType: 'video/mp4',
      status: 'complete',
      width: 320,
      height: 240,
    },
  ]);
  await dbh.sql`update media set status = 'complete' where id = ${id}`;
  return id;
}

beforeAll(async () => {
  g = await startGateway({ PLAYBACK_TOKEN_SECRET: SECRET, STREAM_TTL_SECONDS: '120' });
  dbh = createDb(g.t.databaseUrl, { max: 2 });
  alice = await g.user('alice');
  bob = await g.user('bob');
  dir = await mkdtemp(path.join(tmpdir(), 'gw-stream-'));
  const clip = await generateMedia('mp4', path.join(dir, 'clip.mp4'), { seconds: 4 });
  await mkdir(path.join(dir, 'hls'));
  // One muxed rendition in 1 s segments, as a `ts` preset with a SegmentDuration gives it.
  await run(FFMPEG, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-i', clip, '-c', 'copy', '-f', 'hls', '-hls_time', '1'],
    ...['-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(dir, 'hls', '1m%05d.ts')],
    path.join(dir, 'hls', '1m.m3u8'),
  ]);
  await generateMedia('png', path.join(dir, 'poster.png'), { width: 192, height: 108 });
  segments = new Map();
  for (const f of (await readdir(path.join(dir, 'hls'))).filter((n) => n.endsWith('.ts')))
    segments.set(f, await readFile(path.join(dir, 'hls', f)));
  video = await seedVideo(alice.id);
});
afterAll(async () => {
  await dbh?.close();
  await g?.close();
});

async function streamLink(token: string, id: string) {
  const res = await fetch(`${g.url}/v1/media/${id}/stream`, auth(token));
  return { status: res.status, body: (await res.json()) as StreamLink & { error?: { code: string } } };
}

describe('a video stream', () => {
  it('gives the owner a master URL that loads with no header, its renditions, and segments from S3', async () => {
    const link = await streamLink(alice.token, video);
    expect(link.status).toBe(200);
    expect(link.body.masterUrl).toMatch(new RegExp(`^${g.url}/v1/stream/${video}/master\\.m3u8\\?t=`));
    const expires = Date.parse(link.body.expiresAt) - Date.now();
    expect(expires).toBeGreaterThan(100_000);
    expect(expires).toBeLessThanOrEqual(120_000);

    const master = await fetch(link.body.masterUrl);
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toContain('application/vnd.apple.mpegurl');
    expect(master.headers.get('cache-control')).toBe('private, no-store');
    const masterText = await master.text();
    const variantLine = masterText.split('\n').find((l) => l.startsWith('1m.m3u8?t='))!;
    expect(variantLine).toBeDefined();

    const variant = await fetch(new URL(variantLine, link.body.masterUrl));
    expect(variant.status).toBe(200);
    const uris = (await variant.text()).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(uris.length).toBe(segments.size);
    for (const uri of uris) {
      const u = new URL(uri);
      expect(u.origin).toBe(new URL(g.t.env.S3_ENDPOINT!).origin);
      expect(u.searchParams.get('X-Amz-Expires')).toMatch(/^(?:[6-9]\d|1[01]\d|120)$/);
      const name = u.pathname.split('/').pop()!;
      // As the page's player fetches it: cross-origin, answered with CORS headers.
      const res = await fetch(uri, { headers: { origin: 'http://192.168.1.20:3000' } });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(segments.get(name)!)).toBe(true);
    }
  });

  it('answers another user 404: for the link, with their header on the playlists, and with their own token', async () => {
    expect((await streamLink(bob.token, video)).status).toBe(404);
    const { masterUrl } = (await streamLink(alice.token, video)).body;
    const asBob = await fetch(masterUrl, auth(bob.token));
    expect(asBob.status).toBe(404);
    expect(((await asBob.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    expect((await fetch(masterUrl.replace('master.m3u8', '1m.m3u8'), auth(bob.token))).status).toBe(404);
    // Bob's own valid link, pointed at Alice's media.
    const bobs = await seedVideo(bob.id);
    const bobLink = (await streamLink(bob.token, bobs)).body.masterUrl;
    expect((await fetch(bobLink.replace(bobs, video))).status).toBe(404);
    expect((await fetch(bobLink.replace(bobs, video).replace('master.m3u8', '1m.m3u8'))).status).toBe(404);
    // And Alice's own header is fine.
    expect((await fetch(masterUrl, auth(alice.token))).status).toBe(200);
  });

  it('refuses a tampered or expired token with 403, and a name that is not a rendition with 404', async () => {
    const { masterUrl } = (await streamLink(alice.token, video)).body;
    const url = new URL(masterUrl);
    const t = url.searchParams.get('t')!;
    const tampered = `${t.slice(0, -2)}${t.endsWith('AA') ? 'BB' : 'AA'}`;
    const codeOf = async (u: string) => {
      const res = await fetch(u);
      return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    };
    expect(await codeOf(`${url.origin}${url.pathname}?t=${tampered}`)).toEqual([403, 'BAD_PLAYBACK_TOKEN']);
    const expired = issuePlaybackToken(SECRET, { userId: alice.id, mediaId: video, expiresAt: 1000 });
    expect(await codeOf(`${url.origin}${url.pathname}?t=${expired}`)).toEqual([403, 'PLAYBACK_TOKEN_EXPIRED']);
    expect((await fetch(`${url.origin}${url.pathname}`)).status).toBe(400);
    for (const name of ['index.m3u8', '1m00000.ts', '..%2F..%2Fx.m3u8', 'other.m3u8'])
      expect((await fetch(`${g.url}/v1/stream/${video}/${name}?t=${t}`)).status).toBe(404);
  });

  it('lists the stream and the poster in the detail, and labels the outputs in words', async () => {
    const m = (await (await fetch(`${g.url}/v1/media/${video}`, auth(alice.token))).json()) as MediaWithOutputs;
    expect(m.streamable).toBe(true);
    expect(m.previewUrl).toContain('clip-480p-00001.png');
    const poster = await fetch(m.previewUrl!);
    expect(poster.status).toBe(200);
    expect(Buffer.from(await poster.arrayBuffer()).equals(await readFile(path.join(dir, 'poster.png')))).toBe(true);
    expect(m.outputs.map((o) => [o.format, o.kind, o.label]).sort()).toEqual([
      ['hls-1m', 'stream', 'Stream, 240p'],
      ['mp4-480p', 'video', 'MP4 video, 240p'],
    ]);
    const hls = m.outputs.find((o) => o.kind === 'stream')!;
    const dl = await fetch(`${g.url}/v1/media/${video}/outputs/${hls.id}/download?redirect=false`, auth(alice.token));
    expect(dl.status).toBe(409);
  });

  it('answers 409 for a media with no stream', async () => {
    const res = await upload(g.url, alice.token, new Blob([await readFile(path.join(dir, 'poster.png'))]), 'p.png');
    const link = await streamLink(alice.token, (res.body as { id: string }).id);
    expect([link.status, link.body.error?.code]).toEqual([409, 'STREAM_NOT_READY']);
  });
});

describe('names, failures and delete', () => {
  it('keeps the file name exactly as uploaded for display, and the stored name sanitised', async () => {
    const given = '[v2] #1 <b>ünïcode.png';
    const res = await upload(g.url, alice.token, new Blob([await readFile(path.join(dir, 'poster.png'))]), given);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ originalName: given, name: '_v2_ _1 _b_ünïcode.png', failure: null });
    const list = (await (await fetch(`${g.url}/v1/media?limit=5`, auth(alice.token))).json()) as {
      items: Array<{ id: string; originalName: string }>;
    };
    expect(list.items.find((i) => i.id === (res.body as { id: string }).id)!.originalName).toBe(given);
    const stored = { name: '_v2_ _1 _b_ünïcode.png', originalName: given };
    expect(downloadName(stored, { s3Key: 'transcoded/u/m/_v2_ _1 _b_ünïcode-half.png' })).toBe(
      '[v2] #1 <b>ünïcode-half.png',
    );
    expect(downloadName({ name: 'x.mp3', originalName: 'a/b\u0007c.mp3' }, { s3Key: 'p/x.wav' })).toBe('bc.wav');
    expect(downloadName({ name: 'x.mp3', originalName: 'c.mp3' }, { s3Key: 'p/other.wav' })).toBe('other.wav');
    expect(downloadName({ name: 'x', originalName: null }, { s3Key: 'p/x.wav' })).toBe('x.wav');
    // A name given in the form's `name` field is kept as it is too, slashes and all.
    const named = await upload(g.url, alice.token, new Blob([await readFile(path.join(dir, 'poster.png'))]), 'x.png', {
      name: 'Holiday 2025/Day 1: the "beach".png',
    });
    expect(named.body).toMatchObject({
      originalName: 'Holiday 2025/Day 1: the "beach".png',
      name: 'Day 1_ the _beach_.png',
    });
  });

  it('gives a failed media a message in words, with the engine text as its detail', async () => {
    const detail = 'Amazon Elastic Transcoder could not interpret the media file. (error 4000)';
    const id = await seedVideo(alice.id);
    await dbh.sql`update media set status = 'failed', status_detail = ${detail} where id = ${id}`;
    const m = (await (await fetch(`${g.url}/v1/media/${id}`, auth(alice.token))).json()) as MediaWithOutputs;
    expect(m.failure).toEqual({
      message: expect.stringMatching(/^This file could not be read as audio or video\./),
      detail,
    });
    expect(m.streamable).toBe(false);
  });

  it("deletes the media's notifications with it, and no other", async () => {
    const id = await seedVideo(alice.id);
    const other = await seedVideo(alice.id);
    for (const [mediaId, key] of [
      [id, 'a'],
      [id, 'b'],
      [other, 'c'],
    ] as const)
      await dbh.db
        .insert(notifications)
        .values({ userId: alice.id, mediaId, kind: 'media.complete', text: 'done', dedupeKey: `${mediaId}-${key}` });
    expect((await fetch(`${g.url}/v1/media/${id}`, { method: 'DELETE', ...auth(alice.token) })).status).toBe(204);
    const left = await dbh.db.select().from(notifications).where(eq(notifications.userId, alice.id));
    expect(left.map((n) => n.mediaId)).toEqual([other]);
  });
});
