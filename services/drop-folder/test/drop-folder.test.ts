import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@mp/testbed';
import { newRecord } from '../src/file-record';
import { readState, startStack, wav, type Stack } from './helpers';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s?.close());

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const list = (dir: string) => readdir(dir).catch(() => [] as string[]);

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Writes under a partial name and renames, as a careful writer does. */
async function drop(dir: string, name: string, bytes: Buffer): Promise<void> {
  await writeFile(path.join(dir, `${name}.part`), bytes);
  await rename(path.join(dir, `${name}.part`), path.join(dir, name));
}

describe('drop folder', () => {
  it('uploads a dropped file, downloads its output once complete, and archives the source', async () => {
    const alice = await s.user('alice');
    const f = await s.folders();
    await s.dropFolder(alice.token, f, { ARCHIVE_DIR: f.archive });
    const source = wav(4000, 1);
    await drop(f.drop, 'Café mix.wav', source);

    const [media] = await eventually(async () => {
      const items = await s.mediaOf(alice.token);
      return items.length === 1 ? items : null;
    });
    expect(media).toMatchObject({ name: 'Café mix.wav', size: source.length, sha256: sha(source) });

    const output = wav(2000, 2);
    await s.complete(media!.id, output);

    const downloaded = path.join(f.out, 'Café mix', 'x.wav');
    await eventually(async () => (await readState(f)).find((r) => r.settled));
    expect(await readFile(downloaded)).toEqual(output);
    expect(await readFile(path.join(f.archive, 'Café mix.wav'))).toEqual(source);
    expect(await list(path.join(f.out, 'Café mix'))).toEqual(['x.wav']);
    expect(await list(f.drop)).toEqual(['.drop-state.json']);
    expect(await readState(f)).toMatchObject([
      { name: 'Café mix.wav', phase: 'done', mediaId: media!.id, settled: true, outputs: [downloaded] },
    ]);
  });

  it('after a restart resumes the media it uploaded instead of uploading again, and never uploads the same bytes twice', async () => {
    const bob = await s.user('bob');
    const f = await s.folders();
    const first = await s.dropFolder(bob.token, f);
    const source = wav(4000, 3);
    await drop(f.drop, 'take.wav', source);
    const waiting = await eventually(async () => (await readState(f)).find((r) => r.phase === 'waiting'));
    await first.stop();

    // Completes while nothing listens: the restarted process must learn it on connect.
    await s.complete(waiting.mediaId!, wav(1000, 4));
    await s.dropFolder(bob.token, f);
    await eventually(async () => !(await list(f.drop)).includes('take.wav'));
    expect(await readFile(path.join(f.out, 'take', 'x.wav'))).toEqual(wav(1000, 4));
    expect((await s.mediaOf(bob.token)).map((m) => m.id)).toEqual([waiting.mediaId]);

    // The same bytes again, under another name: disposed of without an upload.
    await drop(f.drop, 'take-copy.wav', source);
    await eventually(async () => !(await list(f.drop)).includes('take-copy.wav'));
    expect((await s.mediaOf(bob.token)).map((m) => m.id)).toEqual([waiting.mediaId]);
    expect(await list(f.out)).toEqual(['take']);
  });

  it('after a crash in the middle of an upload, finds the upload that got through instead of uploading again', async () => {
    const frank = await s.user('frank');
    const f = await s.folders();
    const source = wav(4000, 7);
    await drop(f.drop, 'cut.wav', source);
    // The gateway stored the file, but the process died before it saved the media id.
    const form = new FormData();
    form.append('file', new Blob([source]), 'cut.wav');
    const res = await fetch(`${s.gatewayUrl}/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${frank.token}` },
      body: form,
    });
    const uploaded = (await res.json()) as { id: string };
    const st = await stat(path.join(f.drop, 'cut.wav'));
    const rec = newRecord({ sha256: sha(source), name: 'cut.wav', size: st.size, mtimeMs: st.mtimeMs }, Date.now());
    await writeFile(f.state, JSON.stringify({ version: 1, files: { [rec.sha256]: rec } }));

    await s.dropFolder(frank.token, f);
    await eventually(async () => (await readState(f)).find((r) => r.phase === 'waiting'));
    expect(await readState(f)).toMatchObject([{ name: 'cut.wav', mediaId: uploaded.id }]);
    expect((await s.mediaOf(frank.token)).map((m) => m.id)).toEqual([uploaded.id]);
  });

  it('moves a file the gateway refuses to FAILED_DIR with a note saying why', async () => {
    const carol = await s.user('carol');
    const f = await s.folders();
    await s.dropFolder(carol.token, f);
    // Large enough that the gateway refuses it long before reading it all.
    await drop(f.drop, 'notes.txt', Buffer.from('just some text, not media\n'.repeat(800_000)));

    await eventually(async () => (await list(f.failed)).length === 2);
    expect((await list(f.failed)).sort()).toEqual(['notes.txt', 'notes.txt.error.txt']);
    const note = await readFile(path.join(f.failed, 'notes.txt.error.txt'), 'utf8');
    expect(note).toMatch(
      /^notes\.txt could not be processed\.\nReason: POST \/v1\/media: 415 UNSUPPORTED_MEDIA_TYPE: /,
    );
    expect(await list(f.drop)).toEqual(['.drop-state.json']);
    expect(await s.mediaOf(carol.token)).toEqual([]);
  });

  it('moves a file whose processing failed aside, with the pipeline’s reason', async () => {
    const dave = await s.user('dave');
    const f = await s.folders();
    await s.dropFolder(dave.token, f);
    await drop(f.drop, 'broken.wav', wav(3000, 5));
    const [media] = await eventually(async () => {
      const items = await s.mediaOf(dave.token);
      return items.length === 1 ? items : null;
    });

    await s.fail(media!.id, 'decoder gave up at 00:00:01');
    await eventually(async () => (await list(f.failed)).includes('broken.wav.error.txt'));
    const note = await readFile(path.join(f.failed, 'broken.wav.error.txt'), 'utf8');
    expect(note).toContain('Reason: the pipeline could not process it: decoder gave up at 00:00:01');
    expect(note).toContain(`Media id: ${media!.id}`);
    expect(await list(f.out)).toEqual([]);
  });

  it('reports a media that does not complete in time as failed', async () => {
    const ivan = await s.user('ivan');
    const f = await s.folders();
    await s.dropFolder(ivan.token, f, { COMPLETION_TIMEOUT_MS: '600' });
    await drop(f.drop, 'slow.wav', wav(2000, 9));

    await eventually(async () => (await readState(f)).find((r) => r.settled));
    const note = await readFile(path.join(f.failed, 'slow.wav.error.txt'), 'utf8');
    expect(note).toContain('Reason: the media did not complete within 1 s');
    expect(await s.mediaOf(ivan.token)).toHaveLength(1);
  });

  it('moves a file aside once its attempts are used up, with the last error', async () => {
    const heidi = await s.user('heidi');
    const f = await s.folders();
    // Nothing listens on that port any more: every upload attempt fails to connect.
    const port = await closedPort();
    await s.dropFolder(heidi.token, f, {
      GATEWAY_URL: `http://127.0.0.1:${port}`,
      MAX_ATTEMPTS: '3',
      RETRY_BASE_MS: '50',
    });
    await drop(f.drop, 'lonely.wav', wav(2000, 8));

    await eventually(async () => (await readState(f)).find((r) => r.settled));
    const note = await readFile(path.join(f.failed, 'lonely.wav.error.txt'), 'utf8');
    expect(note).toMatch(/Reason: gave up after 3 attempts: 127\.0\.0\.1:\d+ unreachable: ECONNREFUSED/);
    expect(await readState(f)).toMatchObject([{ phase: 'failed', attempts: 3, settled: true }]);
  });

  it('does not upload a file while it is still being written', async () => {
    const erin = await s.user('erin');
    const f = await s.folders();
    await s.dropFolder(erin.token, f, { STABLE_MS: '800' });
    const whole = wav(24_000, 6);
    const chunks = 8;
    const size = Math.ceil(whole.length / chunks);
    const file = path.join(f.drop, 'live.wav');
    for (let i = 0; i < chunks; i++) {
      await appendFile(file, whole.subarray(i * size, (i + 1) * size));
      await sleep(250);
      expect(await s.mediaOf(erin.token)).toEqual([]);
    }

    const [media] = await eventually(async () => {
      const items = await s.mediaOf(erin.token);
      return items.length > 0 ? items : null;
    });
    expect(media).toMatchObject({ size: whole.length, sha256: sha(whole) });
    await sleep(300);
    expect(await s.mediaOf(erin.token)).toHaveLength(1);
  });
});
