import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, generateMedia } from '@mp/testbed/media';
import { createUser, download, getMedia, listen, upload, type Listener } from './client';

let dir: string;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let aliceEars: Listener;
let bobEars: Listener;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'e2e-'));
  alice = await createUser('alice');
  bob = await createUser('bob');
  aliceEars = await listen(alice.token);
  bobEars = await listen(bob.token);
});
afterAll(() => {
  aliceEars?.close();
  bobEars?.close();
});

async function uploadAndWait(file: string, name: string) {
  const m = await upload(alice.token, await readFile(file), name);
  const n = await aliceEars.waitFor((x) => x.mediaId === m.id);
  return { media: await getMedia(alice.token, m.id), notification: n };
}

async function probeOutput(mediaId: string, outputId: string, name: string) {
  const file = path.join(dir, `${outputId}-${name}`);
  const bytes = await download(alice.token, mediaId, outputId, file);
  return { bytes, probe: await ffprobe(file) };
}

describe('upload → engine → notification → download', () => {
  it('audio: an MP3 becomes WAV (PCM 16-bit 44.1 kHz stereo), FLAC and AAC-LC in MP4', async () => {
    const src = await generateMedia('mp3', path.join(dir, 'song.mp3'), { seconds: 3 });
    const { media, notification } = await uploadAndWait(src, 'song.mp3');
    expect(notification).toMatchObject({ kind: 'media.complete', text: 'Your file song.mp3 has been processed' });
    expect(media.status).toBe('complete');
    const byFormat = Object.fromEntries(media.outputs.map((o) => [o.format, o]));
    expect(Object.keys(byFormat).sort()).toEqual(['flac', 'm4a', 'wav']);
    for (const o of media.outputs) expect(o.status).toBe('complete');

    const wav = await probeOutput(media.id, byFormat.wav!.id, 'song.wav');
    expect(wav.probe.streams[0]).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '44100', channels: 2 });
    expect(wav.bytes.length).toBe(byFormat.wav!.size);
    const flac = await probeOutput(media.id, byFormat.flac!.id, 'song.flac');
    expect(flac.probe.format.format_name).toBe('flac');
    expect(flac.probe.streams[0]).toMatchObject({ codec_name: 'flac' });
    const m4a = await probeOutput(media.id, byFormat.m4a!.id, 'song.m4a');
    expect(m4a.probe.format.format_name).toContain('mp4');
    expect(m4a.probe.streams[0]).toMatchObject({ codec_name: 'aac', profile: 'LC', sample_rate: '44100', channels: 2 });
    for (const o of media.outputs) expect(Math.abs((o.durationMs ?? 0) - 3000)).toBeLessThan(200);
  });

  it('video: an MP4 becomes an HLS ladder of three renditions and a 480p H.264 MP4 within its bounds', async () => {
    const src = await generateMedia('mp4', path.join(dir, 'clip.mp4'), { seconds: 2, width: 1280, height: 720 });
    const { media, notification } = await uploadAndWait(src, 'clip.mp4');
    expect(notification.kind).toBe('media.complete');
    const byFormat = Object.fromEntries(media.outputs.map((o) => [o.format, o]));
    expect(Object.keys(byFormat).sort()).toEqual(['hls-1m', 'hls-2m', 'hls-600k', 'mp4-480p']);
    for (const o of media.outputs) expect(o.status).toBe('complete');
    expect(media.outputs.filter((o) => o.kind === 'stream').map((o) => o.format)).toHaveLength(3);
    expect(media.streamable).toBe(true);
    const sd = await probeOutput(media.id, byFormat['mp4-480p']!.id, 'clip-480p.mp4');
    const v480 = sd.probe.streams.find((s) => s.codec_type === 'video')!;
    expect(v480.codec_name).toBe('h264');
    expect(v480.width! <= 854 && v480.height! <= 480).toBe(true);
    expect(byFormat['mp4-480p']).toMatchObject({
      width: v480.width,
      height: v480.height,
      label: `MP4 video, ${v480.height}p`,
    });
  });

  it('image: a PNG gets its exact half-size copy and a 320 px thumbnail', async () => {
    const src = await generateMedia('png', path.join(dir, 'photo.png'), { width: 800, height: 600 });
    const { media, notification } = await uploadAndWait(src, 'photo.png');
    expect(notification.kind).toBe('media.complete');
    const byFormat = Object.fromEntries(media.outputs.map((o) => [o.format, o]));
    expect(byFormat.half).toMatchObject({ width: 400, height: 300, status: 'complete' });
    expect(byFormat['thumb-320']).toMatchObject({ width: 320, height: 240, status: 'complete' });
    const half = await probeOutput(media.id, byFormat.half!.id, 'photo-half.png');
    expect(half.probe.streams[0]).toMatchObject({ codec_name: 'png', width: 400, height: 300 });
    expect(half.bytes.length).toBe(byFormat.half!.size);
  });

  it('a corrupt file ends failed with a readable reason, and the owner is told', async () => {
    // A WAV header (so the upload is accepted as audio) over a codec nobody decodes, then noise.
    const bytes = Buffer.alloc(8192, 0x55);
    bytes.write('RIFF', 0);
    bytes.writeUInt32LE(8184, 4);
    bytes.write('WAVEfmt ', 8);
    bytes.writeUInt32LE(16, 16);
    bytes.writeUInt16LE(0x7777, 20);
    bytes.write('data', 36);
    bytes.writeUInt32LE(8148, 40);
    const m = await upload(alice.token, bytes, 'broken.wav');
    const n = await aliceEars.waitFor((x) => x.mediaId === m.id);
    expect(n.kind).toBe('media.failed');
    expect(n.text).toMatch(/^Your file broken\.wav could not be processed/);
    const after = await getMedia(alice.token, m.id);
    expect(after.status).toBe('failed');
    expect(after.statusDetail).toMatch(/[a-z]{4,}/i);
  });

  it("nobody hears about another user's files", async () => {
    expect(aliceEars.notifications.length).toBeGreaterThanOrEqual(4);
    expect(bobEars.notifications).toEqual([]);
    expect(bobEars.statuses).toEqual([]);
    const res = await fetch(
      `${(await import('./client')).target().gateway}/v1/media/${aliceEars.notifications[0]!.mediaId}`,
      {
        headers: { authorization: `Bearer ${bob.token}` },
      },
    );
    expect(res.status).toBe(404);
  });
});
