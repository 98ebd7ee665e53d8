import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  GetObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Queue } from 'bullmq';
import { AppError, type TranscodeJob } from '@mp/contracts';
import type { Media, MediaCursor, MediaRepository, Output } from '@mp/db';
import type { Logger } from '@mp/logging';
import { enqueueTranscode } from '@mp/runtime';
import { deleteKeys, listKeys, mediaKey, outputPrefix, sanitizeName } from '@mp/storage';
import { MeterStream, peekMedia, sniff } from './upload';

export interface MediaServiceDeps {
  repo: MediaRepository;
  s3: S3Client;
  bucket: string;
  queue: Queue<TranscodeJob>;
  log: Logger;
  maxUploadBytes: number;
  partBytes: number;
  queueSize: number;
  presignTtl: number;
  onUploadBytes?: (n: number) => void;
}

export interface IncomingFile {
  filename: string;
  stream: Readable;
  displayName?: string | undefined;
}

/** Upload, list, download and delete: the gateway's steps, each named. */
export class MediaService {
  constructor(private readonly d: MediaServiceDeps) {}

  /** Streams one file to S3, records it, and hands it to the transcode queue. */
  async upload(userId: string, file: IncomingFile): Promise<Media> {
    const { head, stream } = await peekMedia(file.stream);
    const type = await sniff(head);
    const mediaId = randomUUID();
    const name = sanitizeName(file.displayName || file.filename || `upload.${type.ext}`);
    const key = mediaKey(userId, mediaId, name);
    const meter = await this.streamToS3(stream, key, type.mime);
    const media = await this.record({
      id: mediaId,
      userId,
      name,
      kind: type.kind,
      contentType: type.mime,
      size: meter.bytes,
      sha256: meter.digest(),
      s3Key: key,
    });
    await this.enqueue(media.id);
    return (await this.d.repo.get(media.id)) ?? media;
  }

  private async streamToS3(body: Readable, key: string, contentType: string): Promise<MeterStream> {
    const meter = new MeterStream(this.d.maxUploadBytes);
    const upload = new Upload({
      client: this.d.s3,
      params: { Bucket: this.d.bucket, Key: key, Body: meter, ContentType: contentType },
      partSize: this.d.partBytes,
      queueSize: this.d.queueSize,
      leavePartsOnError: false,
    });
    const done = upload.done();
    const feeding = pipeline(body, meter);
    try {
      await Promise.all([done, feeding]);
    } catch (err) {
      body.destroy();
      meter.destroy();
      await upload.abort().catch(() => {});
      await Promise.allSettled([done, feeding]);
      await this.removePartial(key);
      throw err instanceof AppError
        ? err
        : new AppError(400, 'UPLOAD_FAILED', `The upload did not complete: ${(err as Error).message}.`);
    }
    this.d.onUploadBytes?.(meter.bytes);
    return meter;
  }

  /**
   * Leave nothing half-written: once every in-flight part has settled, abort any multipart upload still
   * open for the key (the key is unique to this media) and drop the object if it was completed.
   */
  private async removePartial(key: string): Promise<void> {
    const open = await this.d.s3
      .send(new ListMultipartUploadsCommand({ Bucket: this.d.bucket, Prefix: key }))
      .catch(() => ({ Uploads: [] }));
    for (const u of open.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue;
      await this.d.s3
        .send(new AbortMultipartUploadCommand({ Bucket: this.d.bucket, Key: key, UploadId: u.UploadId }))
        .catch(() => {});
    }
    await this.d.s3.send(new DeleteObjectCommand({ Bucket: this.d.bucket, Key: key })).catch(() => {});
  }

  private async record(row: Parameters<MediaRepository['insert']>[0]): Promise<Media> {
    try {
      return await this.d.repo.insert(row);
    } catch (err) {
      await this.d.s3.send(new DeleteObjectCommand({ Bucket: this.d.bucket, Key: row.s3Key })).catch(() => {});
      throw err;
    }
  }

  /**
   * Hands the media to the transcode queue. If Redis is unreachable the upload still succeeds: the row
   * keeps enqueued_at null and the sweep queues it later. The job id is per media, so a double add is a no-op.
   */
  enqueue(mediaId: string): Promise<boolean> {
    return enqueueTranscode(
      { queue: this.d.queue, log: this.d.log, markEnqueued: (id) => this.d.repo.markEnqueued(id) },
      mediaId,
    );
  }

  /** Re-queues uploads whose job never reached the queue. */
  async sweep(minAgeMs: number): Promise<number> {
    const rows = await this.d.repo.unqueued(new Date(Date.now() - minAgeMs));
    let queued = 0;
    for (const { id } of rows) {
      if (!(await this.enqueue(id))) break;
      queued += 1;
    }
    return queued;
  }

  list(userId: string, limit: number, cursor: MediaCursor | null) {
    return this.d.repo.listOwned(userId, limit, cursor);
  }

  async getOwned(userId: string, id: string): Promise<{ media: Media; outputs: Output[] }> {
    const media = await this.d.repo.getOwned(userId, id);
    if (!media) throw notFound();
    return { media, outputs: await this.d.repo.outputsOf(media.id) };
  }

  async downloadUrl(userId: string, mediaId: string, outputId: string): Promise<string> {
    const media = await this.d.repo.getOwned(userId, mediaId);
    if (!media) throw notFound();
    const output = await this.d.repo.getOutput(media.id, outputId);
    if (!output) throw new AppError(404, 'NOT_FOUND', 'No such output.');
    if (output.status !== 'complete') {
      throw new AppError(
        409,
        'OUTPUT_NOT_READY',
        `This output is ${output.status}; it can be downloaded once complete.`,
      );
    }
    const filename = output.s3Key.split('/').pop() ?? 'download';
    return getSignedUrl(
      this.d.s3,
      new GetObjectCommand({
        Bucket: this.d.bucket,
        Key: output.s3Key,
        ResponseContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
      }),
      { expiresIn: this.d.presignTtl },
    );
  }

  /**
   * Removes the rows, leaving a tombstone in the same transaction, then the original and every output. What
   * the pipeline still writes for the media (an engine job that cannot be cancelled any more, a resize in
   * flight), and what a crash here leaves, is removed by the dispatch worker's purge of the tombstone.
   */
  async delete(userId: string, mediaId: string): Promise<void> {
    const media = await this.d.repo.getOwned(userId, mediaId);
    if (!media) throw notFound();
    const outputs = await this.d.repo.outputsOf(media.id);
    if (!(await this.d.repo.delete(media.id))) throw notFound();
    try {
      await this.removeObjects(media, outputs);
    } catch (err) {
      this.d.log.warn(
        { mediaId: media.id, err: (err as Error).message },
        'objects of a deleted media left to its purge',
      );
    }
  }

  private async removeObjects(media: Media, outputs: Output[]): Promise<void> {
    const keys = new Set([media.s3Key, ...outputs.map((o) => o.s3Key)]);
    for (const key of await listKeys(this.d.s3, this.d.bucket, outputPrefix(media.userId, media.id))) keys.add(key);
    await deleteKeys(this.d.s3, this.d.bucket, [...keys]);
  }
}

export const notFound = () => new AppError(404, 'NOT_FOUND', 'No such media.');
