// Files over RESUMABLE_THRESHOLD_BYTES go through the gateway's tus endpoint; an upload begun by an earlier run
// (its URL kept beside the state file) is resumed after a restart, not started again.
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { eq } from 'drizzle-orm';
import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, media as mediaTable, uploads as uploadsTable } from '@mp/db';
import { eventually } from '@mp/testbed';
import { readState, startStack, wav, type Stack } from './helpers';

let s: Stack;
let dbh: ReturnType<typeof createDb>;
beforeAll(async () => {
  s = await startStack();
  dbh = createDb(s.t.databaseUrl, { max: 2 });
});
afterAll(async () => {
  await dbh?.close();
  await s?.close();
});

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const { FileUrlStorage } = tus as unknown as {
  FileUrlStorage: new (file: string) => NonNullable<tus.UploadOptions['urlStorage']>;
};

async function drop(dir: string, name: string, bytes: Buffer): Promise<void> {
  await writeFile(path.join(dir, `${name}.part`), bytes);
  await rename(path.join(dir, `${name}.part`), path.join(dir, name));
}

async function storedSha(key: string): Promise<string> {
  const got = await s.t.s3Client.send(new GetObjectCommand({ Bucket: s.t.bucket, Key: key }));
  return sha(Buffer.from(await got.Body!.transformToByteArray()));
}

const uploadsOf = (userId: string) => dbh.db.select().from(uploadsTable).where(eq(uploadsTable.userId, userId));

describe('big files', () => {
  it('go through tus over the threshold and become one media with the same bytes', async () => {
    const user = await s.user('big');
    const f = await s.folders();
    await s.dropFolder(user.token, f, { RESUMABLE_THRESHOLD_BYTES: String(MiB) });
    const source = wav(1024 * 1024, 5); // 2 MiB
    await drop(f.drop, 'Interview Ü.wav', source);

    const [m] = await eventually(async () => {
      const items = await s.mediaOf(user.token);
      return items.length === 1 ? items : null;
    });
    expect(m).toMatchObject({ name: 'Interview Ü.wav', size: source.length });
    const [upload, ...others] = await uploadsOf(user.id);
    expect(others).toEqual([]);
    expect(upload).toMatchObject({ mediaId: m!.id, name: 'Interview Ü.wav' });
    expect(upload!.completedAt).not.toBeNull();
    expect(await storedSha(`uploads/${upload!.id}`)).toBe(sha(source));
    expect(await readState(f)).toMatchObject([{ phase: 'waiting', mediaId: m!.id }]);
  });

  it('after a restart, resumes the upload an earlier run began instead of starting another', async () => {
    const user = await s.user('restarted');
    const f = await s.folders();
    const source = wav(6 * 1024 * 1024, 7); // 12 MiB: one whole 8 MiB part and more were sent before the stop
    const name = 'long take.wav';
    const auth = { authorization: `Bearer ${user.token}`, 'tus-resumable': '1.0.0' };
    const created = await fetch(`${s.gatewayUrl}/v1/uploads`, {
      method: 'POST',
      headers: {
        ...auth,
        'upload-length': String(source.length),
        'upload-metadata': `filename ${Buffer.from(name).toString('base64')}`,
      },
    });
    const uploadUrl = new URL(created.headers.get('location')!, `${s.gatewayUrl}/v1/uploads`).toString();
    const sent = 9 * MiB;
    const first = await fetch(uploadUrl, {
      method: 'PATCH',
      headers: { ...auth, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: new Uint8Array(source.subarray(0, sent)),
    });
    expect(first.status).toBe(204);
    // What the run that was stopped left beside its state file: the upload's URL, under the file's checksum.
    await new FileUrlStorage(`${f.state}.uploads`).addUpload(`drop-folder:${sha(source)}:${s.gatewayUrl}`, {
      size: source.length,
      metadata: { filename: name },
      creationTime: new Date().toString(),
      uploadUrl,
      urlStorageKey: '',
      parallelUploadUrls: null,
    });

    await s.dropFolder(user.token, f, { RESUMABLE_THRESHOLD_BYTES: String(MiB) });
    await drop(f.drop, name, source);
    const [m] = await eventually(async () => {
      const items = await s.mediaOf(user.token);
      return items.length === 1 ? items : null;
    });
    const rows = await uploadsOf(user.id);
    expect(rows).toHaveLength(1);
    const id = uploadUrl.split('/').pop()!;
    expect(rows[0]).toMatchObject({ id, mediaId: m!.id });
    const [stored] = await dbh.db.select().from(mediaTable).where(eq(mediaTable.id, m!.id));
    expect(stored!.s3Key).toBe(`uploads/${id}`);
    expect(await storedSha(`uploads/${id}`)).toBe(sha(source));
  });
});
