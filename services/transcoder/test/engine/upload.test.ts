import { createHash, randomBytes } from 'node:crypto';
import { appendFile, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '@mp/storage';
import { createTestEnv } from '@mp/testbed';
import type { TestEnv } from '@mp/testbed';
import { FollowingUpload, uploadFile } from '../../src/engine/upload';
import { scratchDir } from './helpers';

const MiB = 1024 * 1024;
let t: TestEnv;
let work: string;
let s3: S3Client;
/** The S3 requests `s3` made, in order, e.g. `UploadPart 2`. */
const requests: string[] = [];
/** The signed payload hash of each part sent, by part number (PutObject as part 1). */
const payloadHashes = new Map<number, string>();

beforeAll(async () => {
  t = await createTestEnv();
  work = await scratchDir('upload');
  s3 = createS3Client({ ...t.s3, forcePathStyle: true });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { PartNumber?: number };
      requests.push(`${context.commandName?.replace(/Command$/, '')}${input.PartNumber ? ` ${input.PartNumber}` : ''}`);
      return next(args);
    },
    { step: 'initialize' },
  );
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { PartNumber?: number };
      const headers = (args.request as { headers: Record<string, string> }).headers;
      if (context.commandName === 'UploadPartCommand' || context.commandName === 'PutObjectCommand') {
        payloadHashes.set(input.PartNumber ?? 1, headers['x-amz-content-sha256']!);
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
});

afterAll(async () => {
  s3?.destroy();
  await t?.cleanup();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function stored(key: string): Promise<Uint8Array> {
  const res = await t.s3Client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
  return res.Body!.transformToByteArray();
}

/** Writes `total` bytes in 1 MiB steps like a muxer, polling the upload after each step. */
async function writeGrowing(file: string, total: number, upload: FollowingUpload): Promise<void> {
  await writeFile(file, Buffer.alloc(0));
  for (let written = 0; written < total; written += MiB) {
    await appendFile(file, randomBytes(Math.min(MiB, total - written)));
    upload.poll();
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function patch(file: string, offset: number, text: string): Promise<void> {
  const fh = await open(file, 'r+');
  await fh.write(Buffer.from(text), 0, text.length, offset);
  await fh.close();
}

describe('FollowingUpload', () => {
  it('stores a file written while uploading, including headers patched at the end', async () => {
    const file = path.join(work, 'growing.bin');
    const target = { s3, bucket: t.bucket, key: 'follow/growing.bin', contentType: 'audio/wav' };
    const upload = new FollowingUpload(target, file, 5 * MiB, 256 * 1024);
    await writeGrowing(file, 17 * MiB + 12345, upload);
    await new Promise((r) => setTimeout(r, 300));
    // Parts 2 and 3 went up while the file was being written; part 1 waits for the end.
    expect(requests.splice(0)).toEqual(['CreateMultipartUpload', 'UploadPart 2', 'UploadPart 3']);
    // As WAV and MP4 muxers do: sizes in the first bytes; and a change inside an early part.
    await patch(file, 4, 'RIFFSIZE');
    await patch(file, 6 * MiB + 7, 'late change');
    await upload.finish();
    // The tail and the patched first part (side by side), then part 2 again because it changed.
    const rest = requests.splice(0);
    expect(rest.slice(0, 2).sort()).toEqual(['UploadPart 1', 'UploadPart 4']);
    expect(rest.slice(2)).toEqual(['UploadPart 2', 'CompleteMultipartUpload']);

    expect(sha(await stored('follow/growing.bin'))).toBe(sha(await readFile(file)));
    const head = await t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'follow/growing.bin' }));
    expect(head.ContentType).toBe('audio/wav');
    expect(head.ContentLength).toBe(17 * MiB + 12345);
  });

  it('uploads a file too small to follow in one piece at the end', async () => {
    const file = path.join(work, 'small.bin');
    const upload = new FollowingUpload(
      { s3, bucket: t.bucket, key: 'follow/small.bin', contentType: 'audio/flac' },
      file,
      5 * MiB,
    );
    await writeGrowing(file, 3 * MiB, upload);
    await patch(file, 0, 'fLaC');
    requests.splice(0);
    await upload.finish();
    expect(requests.splice(0)).toEqual(['PutObject']);
    expect(sha(await stored('follow/small.bin'))).toBe(sha(await readFile(file)));
  });

  it('uploads a finished file in parts, each signed with the SHA-256 of its own bytes', async () => {
    const file = path.join(work, 'finished.bin');
    const data = randomBytes(13 * MiB + 5);
    await writeFile(file, data);
    requests.splice(0);
    payloadHashes.clear();
    await uploadFile({ s3, bucket: t.bucket, key: 'follow/finished.bin', contentType: 'video/mp4' }, file, 5 * MiB);
    const sent = requests.splice(0);
    expect(sent[0]).toBe('CreateMultipartUpload');
    expect(sent.slice(1, 4).sort()).toEqual(['UploadPart 1', 'UploadPart 2', 'UploadPart 3']);
    expect(sent.slice(4)).toEqual(['CompleteMultipartUpload']);
    for (const n of [1, 2, 3]) expect(payloadHashes.get(n)).toBe(sha(data.subarray((n - 1) * 5 * MiB, n * 5 * MiB)));
    expect(sha(await stored('follow/finished.bin'))).toBe(sha(data));
  });

  it('aborts the multipart upload and leaves no object when aborted', async () => {
    const file = path.join(work, 'aborted.bin');
    const upload = new FollowingUpload(
      { s3, bucket: t.bucket, key: 'follow/aborted.bin', contentType: 'video/mp4' },
      file,
      5 * MiB,
      0,
    );
    await writeGrowing(file, 12 * MiB, upload);
    await new Promise((r) => setTimeout(r, 200));
    await upload.abort();
    await expect(
      t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: 'follow/aborted.bin' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
    expect(requests.splice(0)).toEqual(['CreateMultipartUpload', 'UploadPart 2', 'AbortMultipartUpload']);
  });
});
