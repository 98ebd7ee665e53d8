import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { ffprobe } from '@mp/testbed/media';
import type { ProbeResult } from '@mp/testbed/media';

export function scratchDir(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `engine-${label}-`));
}

export async function putFile(s3: S3Client, bucket: string, key: string, file: string): Promise<void> {
  const { size } = await stat(file);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size }));
}

/** Downloads an object and ffprobes it; also returns its content type. */
export async function probeObject(
  s3: S3Client,
  bucket: string,
  key: string,
  dir: string,
): Promise<{ probe: ProbeResult; contentType?: string | undefined; file: string }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const file = path.join(dir, key.replaceAll('/', '_'));
  await pipeline(res.Body as Readable, createWriteStream(file));
  return { probe: await ffprobe(file), contentType: res.ContentType, file };
}

export async function entries(dir: string): Promise<string[]> {
  return readdir(dir);
}
