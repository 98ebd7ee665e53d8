// Uploads of finished files (lib-storage), and of files still being written by ffmpeg.

import { hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface UploadTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  contentType: string;
  signal?: AbortSignal | undefined;
}

const MiB = 1024 * 1024;

/** Uploads a finished file from a stream: one PUT when small, a multipart upload when large. */
export async function uploadFile(target: UploadTarget, file: string, partSize = 8 * MiB): Promise<void> {
  const body = createReadStream(file);
  const upload = new Upload({
    client: target.s3,
    params: { Bucket: target.bucket, Key: target.key, Body: body, ContentType: target.contentType },
    queueSize: 2,
    partSize,
    leavePartsOnError: false,
  });
  const onAbort = () => void upload.abort();
  target.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await upload.done();
  } finally {
    target.signal?.removeEventListener('abort', onAbort);
    body.destroy();
  }
}

/**
 * Uploads a file while ffmpeg is still writing it, so that storing the output overlaps transcoding.
 * Muxers go back to patch their headers (WAV and FLAC sizes, the MP4 `mdat` size, …) when they finish,
 * so the first part is sent last, and every part sent early is compared with the finished file and sent
 * again if it changed. A file that stays under two parts is uploaded whole at the end.
 */
export class FollowingUpload {
  private uploadId: string | undefined;
  private next = 2;
  private readonly sent = new Map<number, { etag: string; digest: string }>();
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private polling = false;

  constructor(
    private readonly target: UploadTarget,
    private readonly file: string,
    private readonly partSize = 5 * MiB,
    /** Bytes left behind the write position, still in ffmpeg's output buffer or about to be patched. */
    private readonly margin = 256 * 1024,
  ) {}

  /** Sends the parts that are complete by now. Never throws; a failure surfaces in finish(). */
  poll(): void {
    if (this.polling || this.failure) return;
    this.polling = true;
    stat(this.file)
      .then(({ size }) => {
        while (size >= this.next * this.partSize + this.margin) {
          const n = this.next++;
          this.chain = this.chain.then(() => this.sendPart(n, size));
        }
      })
      .catch(() => {}) // not written yet
      .finally(() => {
        this.polling = false;
      });
  }

  /** Once ffmpeg has closed the file: sends the rest and completes the object. */
  async finish(): Promise<void> {
    await this.chain;
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    const { size } = await stat(this.file);
    if (!this.uploadId || size < (this.next - 1) * this.partSize) {
      await this.abort();
      return uploadFile(this.target, this.file, this.partSize);
    }
    try {
      const last = Math.max(this.next - 1, Math.ceil(size / this.partSize));
      for (let n = this.next; n <= last; n++) await this.sendPart(n, size);
      await this.sendPart(1, size);
      for (const [n, part] of [...this.sent]) {
        if (n === 1) continue;
        const { digest } = await this.readPart(n, size);
        if (digest !== part.digest) await this.sendPart(n, size);
      }
      if (this.failure) throw this.failure;
      const Parts = [...this.sent.entries()].sort(([a], [b]) => a - b).map(([PartNumber, p]) => ({ PartNumber, ETag: p.etag }));
      await this.target.s3.send(
        new CompleteMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: this.uploadId, MultipartUpload: { Parts } }),
        { abortSignal: this.target.signal },
      );
      this.uploadId = undefined;
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Drops whatever was sent. Safe to call more than once. */
  async abort(): Promise<void> {
    await this.chain.catch(() => {});
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (!uploadId) return;
    await this.target.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: uploadId }))
      .catch(() => {});
  }

  private async sendPart(n: number, size: number): Promise<void> {
    if (this.failure) return;
    try {
      if (!this.uploadId) {
        const created = await this.target.s3.send(
          new CreateMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, ContentType: this.target.contentType }),
          { abortSignal: this.target.signal },
        );
        this.uploadId = created.UploadId;
      }
      const { body, digest } = await this.readPart(n, size);
      const command = new UploadPartCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: this.uploadId, PartNumber: n, Body: body, ContentLength: body.length });
      // SigV4 signs the payload's SHA-256 from this header when it is set: the digest just taken, not a second pass.
      command.middlewareStack.add(
        (next) => (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) request.headers['x-amz-content-sha256'] = digest;
          return next(args);
        },
        { step: 'build', name: 'payloadDigest' },
      );
      const res = await this.target.s3.send(command, { abortSignal: this.target.signal });
      this.sent.set(n, { etag: res.ETag!, digest });
    } catch (err) {
      this.failure ??= err;
    }
  }

  /** A part's bytes as the file holds them now, and their SHA-256 (to tell whether it changed since). */
  private async readPart(n: number, size: number): Promise<{ body: Buffer; digest: string }> {
    const start = (n - 1) * this.partSize;
    const length = Math.max(0, Math.min(this.partSize, size - start));
    const body = Buffer.alloc(length);
    const fh = await open(this.file, 'r');
    try {
      let read = 0;
      while (read < length) {
        const { bytesRead } = await fh.read(body, read, length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const data = read === length ? body : body.subarray(0, read);
      return { body: data, digest: hash('sha256', data) };
    } finally {
      await fh.close();
    }
  }
}
