import type { Readable } from 'node:stream';
import { S3Store, type MetadataValue, type Options } from '@tus/s3-store';

/** Parts up to this size are gathered in memory; a larger one (an upload of many GiB) goes through a file. */
export const MAX_MEMORY_PART_BYTES = 64 * 1024 ** 2;
/** Part buffers kept for the next parts once sent, so that each part does not allocate (and collect) anew. */
const IDLE_BUFFERS = 4;
/** Commands whose body is a part: sent as UNSIGNED-PAYLOAD, as S3Store's file streams were, not hashed first. */
const PART_COMMANDS = new Set(['UploadPartCommand', 'PutObjectCommand']);

/**
 * S3Store whose parts are gathered in memory and sent from one buffer, rather than written to a temporary file
 * chunk by chunk (each append awaited before the next chunk is read) and read back for the UploadPart. The
 * request is read on while earlier parts are sent; a part is started only once a part-upload permit is held
 * and fewer than `partsPerUpload` parts of this request are being sent, so at most `maxConcurrentPartUploads`
 * parts (sending or being filled) are in memory at once, and the request waits meanwhile. A part short of
 * `minPartSize` at the end of a request is stored as the incomplete part, as S3Store does.
 */
export class MemoryPartS3Store extends S3Store {
  private readonly partsPerUpload: number;
  private readonly idle: Buffer[] = [];

  constructor(options: Options & { partsPerUpload: number }) {
    const { partsPerUpload, ...rest } = options;
    super(rest);
    this.partsPerUpload = partsPerUpload;
    // The SDK hashes a buffer body on the event loop for the signature (SHA-256, 8 MiB a part); the body goes
    // over one connection and S3 checks its length, as for the file streams S3Store sent before.
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (PART_COMMANDS.has(context.commandName ?? '') && request.headers)
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'unsignedPartPayload' },
    );
  }

  private takeBuffer(size: number): Buffer {
    const i = this.idle.findIndex((b) => b.length === size);
    return i >= 0 ? this.idle.splice(i, 1)[0]! : Buffer.allocUnsafe(size);
  }

  private giveBack(buf: Buffer): void {
    if (this.idle.length < IDLE_BUFFERS) this.idle.push(buf);
  }

  protected override async uploadParts(
    metadata: MetadataValue,
    readStream: Readable,
    currentPartNumber: number,
    offset: number,
  ): Promise<number> {
    const size = metadata.file.size;
    const partSize = this.calcOptimalPartSize(size);
    if (partSize > MAX_MEMORY_PART_BYTES) return super.uploadParts(metadata, readStream, currentPartNumber, offset);

    const tasks: Promise<void>[] = [];
    const active = new Set<Promise<void>>();
    let bytesUploaded = 0;
    let failure: unknown = null;
    let permit: Awaited<ReturnType<typeof this.partUploadSemaphore.acquire>> | null = null;
    let part: Buffer | null = null;
    let filled = 0;

    const send = () => {
      const whole = part!;
      const body = whole.subarray(0, filled);
      const held = permit!;
      const partNumber = currentPartNumber++;
      const n = filled;
      offset += n;
      const isFinalPart = size === offset;
      part = null;
      permit = null;
      filled = 0;
      const task = (async () => {
        try {
          if (n >= this.minPartSize || isFinalPart) await this.uploadPart(metadata, body, partNumber);
          // The SDK takes a buffer for PutObject as well; S3Store's signature names only streams.
          else await this.uploadIncompletePart(metadata.file.id, body as unknown as Readable);
          bytesUploaded += n;
        } catch (err) {
          failure ??= err;
          readStream.destroy(err as Error);
          throw err;
        } finally {
          this.giveBack(whole);
          held.release().catch(() => {});
        }
      })();
      task.catch(() => {});
      tasks.push(task);
      active.add(task);
      void task.finally(() => active.delete(task)).catch(() => {});
    };

    try {
      for await (const chunk of readStream as AsyncIterable<Buffer>) {
        let rest = chunk;
        while (rest.length > 0) {
          if (failure) throw failure;
          if (!part) {
            while (active.size >= this.partsPerUpload) await Promise.race(active).catch(() => {});
            if (failure) throw failure;
            permit = await this.partUploadSemaphore.acquire();
            part = this.takeBuffer(partSize);
          }
          const n = Math.min(rest.length, partSize - filled);
          rest.copy(part, filled, 0, n);
          filled += n;
          rest = rest.subarray(n);
          if (filled === partSize) send();
        }
      }
      if (part && filled > 0) send();
    } catch (err) {
      tasks.push(Promise.reject(failure ?? err));
    } finally {
      // A part begun when the request failed is dropped, as S3Store drops its unfinished part file.
      if (part) this.giveBack(part);
      (permit as { release(): Promise<void> } | null)?.release().catch(() => {});
      await Promise.allSettled(tasks);
    }
    await Promise.all(tasks);
    return bytesUploaded;
  }
}
