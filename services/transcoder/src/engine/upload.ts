// Uploads of outputs: of files still being written by ffmpeg (FollowingUpload), and of finished files.
// Parts are read straight from the file into reused buffers, and each part's one SHA-256 serves both the
// SigV4 payload hash and the check of whether the part changed after it was sent.

import { hash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

export interface UploadTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  contentType: string;
  signal?: AbortSignal | undefined;
}

const MiB = 1024 * 1024;
/** S3's limit on the parts of one upload. */
const MAX_PARTS = 10_000;
/** Parts in flight at once when sending the rest of a file. */
const PARTS_AT_ONCE = 2;

/** Uploads a finished file: one PUT when it fits in a part, a multipart upload otherwise. */
export async function uploadFile(target: UploadTarget, file: string, partSize = 8 * MiB): Promise<void> {
  const { size } = await stat(file);
  const upload = new FollowingUpload(target, file, Math.max(partSize, Math.ceil(size / MAX_PARTS)), 0);
  await upload.finish();
}

/**
 * Uploads a file while ffmpeg is still writing it, so that storing the output overlaps transcoding.
 * Muxers go back to patch their headers (WAV and FLAC sizes, the MP4 `mdat` size, …) when they finish,
 * so the first part is sent last, and every part sent early is compared with the finished file and sent
 * again if it changed. A file that fits in one part is sent whole at the end.
 */
export class FollowingUpload {
  private uploadId: string | undefined;
  private creating: Promise<string> | undefined;
  private next = 2;
  private readonly sent = new Map<number, { etag: string; digest: string }>();
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private polling = false;
  private readonly buffers: Buffer[] = [];

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
    if (size <= this.partSize || size < (this.next - 1) * this.partSize) {
      await this.abort();
      return size <= this.partSize
        ? this.putWhole(size)
        : new FollowingUpload(this.target, this.file, this.partSize, 0).finish();
    }
    try {
      const early = [...this.sent.keys()];
      const last = Math.ceil(size / this.partSize);
      // The parts not sent yet, then the first one; a few at a time.
      const rest = [...Array.from({ length: last - 1 }, (_, k) => k + 2).filter((n) => !this.sent.has(n)), 1];
      await Promise.all(
        Array.from({ length: PARTS_AT_ONCE }, async () => {
          for (let n = rest.shift(); n !== undefined && !this.failure; n = rest.shift()) await this.sendPart(n, size);
        }),
      );
      // Parts sent while the file was written: sent again if the muxer changed them since.
      for (const n of early) {
        if (this.failure) break;
        const buffer = this.take();
        try {
          const { digest } = await this.readPart(n, size, buffer);
          if (digest !== this.sent.get(n)!.digest) await this.sendPart(n, size);
        } finally {
          this.buffers.push(buffer);
        }
      }
      if (this.failure) throw this.failure;
      const Parts = [...this.sent.entries()]
        .sort(([a], [b]) => a - b)
        .map(([PartNumber, p]) => ({ PartNumber, ETag: p.etag }));
      await this.target.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.target.bucket,
          Key: this.target.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts },
        }),
        { abortSignal: this.target.signal },
      );
      this.uploadId = undefined;
    } catch (err) {
      await this.abort();
      throw err;
    } finally {
      this.buffers.length = 0;
    }
  }

  /** Drops whatever was sent. Safe to call more than once. */
  async abort(): Promise<void> {
    await this.chain.catch(() => {});
    await this.creating?.catch(() => {});
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    this.creating = undefined;
    this.buffers.length = 0;
    if (!uploadId) return;
    await this.target.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: uploadId }))
      .catch(() => {});
  }

  private async putWhole(size: number): Promise<void> {
    const { body, digest } = await this.readPart(1, size, Buffer.allocUnsafe(size));
    const command = new PutObjectCommand({
      Bucket: this.target.bucket,
      Key: this.target.key,
      Body: body,
      ContentLength: body.length,
      ContentType: this.target.contentType,
    });
    await this.target.s3.send(withPayloadDigest(command, digest), { abortSignal: this.target.signal });
  }

  private multipartUpload(): Promise<string> {
    this.creating ??= this.target.s3
      .send(
        new CreateMultipartUploadCommand({
          Bucket: this.target.bucket,
          Key: this.target.key,
          ContentType: this.target.contentType,
        }),
        {
          abortSignal: this.target.signal,
        },
      )
      .then((created) => (this.uploadId = created.UploadId!));
    return this.creating;
  }

  private async sendPart(n: number, size: number): Promise<void> {
    if (this.failure) return;
    const buffer = this.take();
    try {
      const uploadId = await this.multipartUpload();
      const { body, digest } = await this.readPart(n, size, buffer);
      const command = new UploadPartCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: uploadId,
        PartNumber: n,
        Body: body,
        ContentLength: body.length,
      });
      const res = await this.target.s3.send(withPayloadDigest(command, digest), { abortSignal: this.target.signal });
      this.sent.set(n, { etag: res.ETag!, digest });
    } catch (err) {
      this.failure ??= err;
    } finally {
      this.buffers.push(buffer);
    }
  }

  private take(): Buffer {
    return this.buffers.pop() ?? Buffer.allocUnsafe(this.partSize);
  }

  /** Part `n` as the file holds it now, read into `buffer`, and its SHA-256 (hex). */
  private async readPart(n: number, size: number, buffer: Buffer): Promise<{ body: Buffer; digest: string }> {
    const start = (n - 1) * this.partSize;
    const length = Math.max(0, Math.min(this.partSize, size - start));
    const fh = await open(this.file, 'r');
    try {
      let read = 0;
      while (read < length) {
        const { bytesRead } = await fh.read(buffer, read, length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const body = buffer.subarray(0, read);
      return { body, digest: hash('sha256', body) };
    } finally {
      await fh.close();
    }
  }
}

/** SigV4 signs the payload hash given in `x-amz-content-sha256` when it is set: the digest already taken. */
function withPayloadDigest<C extends PutObjectCommand | UploadPartCommand>(command: C, digest: string): C {
  (command.middlewareStack as PutObjectCommand['middlewareStack']).add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = digest;
      return next(args);
    },
    { step: 'build', name: 'payloadDigest' },
  );
  return command;
}
