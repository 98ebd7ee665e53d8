import type { Readable } from 'node:stream';
import { S3Store, type MetadataValue, type Options } from '@tus/s3-store';

/** Parts up to this size are gathered in memory; a larger one (an upload of many GiB) goes through a file. */
export const MAX_MEMORY_PART_BYTES = 64 * 1024 ** 2;

/**
 * S3Store whose parts are gathered in memory and sent from one buffer, rather than written to a temporary file
 * chunk by chunk (each append awaited before the next chunk is read) and read back for the UploadPart. The
 * request is read on while earlier parts are sent; a part is started only once a part-upload permit is held
 * and fewer than `partsPerUpload` parts of this request are in memory, so at most `maxConcurrentPartUploads`
 * parts (sending or being filled) are in memory at once, and the request waits meanwhile. A part short of
 * `minPartSize` at the end of a request is stored as the incomplete part, as S3Store does.
 */
export class MemoryPartS3Store extends S3Store {
  private readonly partsPerUpload: number;

  constructor(options: Options & { partsPerUpload: number }) {
    const { partsPerUpload, ...rest } = options;
    super(rest);
    this.partsPerUpload = partsPerUpload;
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
      const body = part!.subarray(0, filled);
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
            part = Buffer.allocUnsafe(partSize);
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
      (permit as { release(): Promise<void> } | null)?.release().catch(() => {});
      await Promise.allSettled(tasks);
    }
    await Promise.all(tasks);
    return bytesUploaded;
  }
}
