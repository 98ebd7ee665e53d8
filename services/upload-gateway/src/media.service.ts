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
import { baseName, deleteKeys, listKeys, mediaKey, outputPrefix, sanitizeName } from '@mp/storage';
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

/** The longest original file name kept for display (the stored name is sanitised and shorter still). */
const MAX_ORIGINAL_NAME = 1024;

const HLS_TYPE = 'application/vnd.apple.mpegurl';

/** A media's HLS stream: its folder, the master playlist's key, and the complete renditions' keys. */
export interface StreamSource {
  media: Media;
  folder: string;
  masterKey: string;
  /** Variant playlist file names (`2m.m3u8`) → the folder they are in. */
  variants: Set<string>;
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
    const given = file.displayName || file.filename || `upload.${type.ext}`;
    const name = sanitizeName(given);
    const key = mediaKey(userId, mediaId, name);
    const meter = await this.streamToS3(stream, key, type.mime);
    const media = await this.record({
      id: mediaId,
      userId,
      name,
      // As given, but for control characters (Postgres text holds no NUL, and none of them can be shown).
      originalName: given.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, MAX_ORIGINAL_NAME) || name,
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

  async downloadUrl(userId: string, mediaId: string, outputId: string, signer: S3Client = this.d.s3): Promise<string> {
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
    if (output.contentType === HLS_TYPE)
      throw new AppError(409, 'STREAM_ONLY', 'This output is part of the stream: play it, or download the MP4.');
    const filename = downloadName(media, output);
    return getSignedUrl(
      signer,
      new GetObjectCommand({
        Bucket: this.d.bucket,
        Key: output.s3Key,
        ResponseContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
      }),
      { expiresIn: this.d.presignTtl },
    );
  }

  /** A short-lived URL of a picture of the media: an image's smallest copy, or a video's first thumbnail. */
  async previewUrl(media: Media, outputs: Output[], signer: S3Client = this.d.s3): Promise<string | null> {
    let key: string | undefined;
    if (media.kind === 'image') {
      const images = outputs.filter((o) => o.status === 'complete' && o.contentType?.startsWith('image/'));
      key = images.sort((a, b) => (a.width ?? 0) * (a.height ?? 0) - (b.width ?? 0) * (b.height ?? 0))[0]?.s3Key;
    } else if (media.kind === 'video' && media.status === 'complete') {
      const keys = await listKeys(this.d.s3, this.d.bucket, outputPrefix(media.userId, media.id)).catch(() => []);
      key = keys.filter((k) => /-0000\d\.(?:png|jpe?g)$/.test(k)).sort()[0];
    }
    if (!key) return null;
    return getSignedUrl(signer, new GetObjectCommand({ Bucket: this.d.bucket, Key: key }), {
      expiresIn: this.d.presignTtl,
    });
  }

  /** The renditions of a media's HLS stream that are complete, with their folder; none until there is one. */
  static streamRenditions(outputs: Output[]): Output[] {
    return outputs.filter((o) => o.contentType === HLS_TYPE && o.status === 'complete');
  }

  /**
   * The owner's media with its stream: the master is the one playlist in the renditions' folder that is not a
   * rendition's own. 404 for a media that is not the user's, 409 when it has no stream (yet).
   */
  async streamSource(userId: string, mediaId: string): Promise<StreamSource> {
    const { media, outputs } = await this.getOwned(userId, mediaId);
    const renditions = MediaService.streamRenditions(outputs);
    const folder = renditions[0]?.s3Key.slice(0, renditions[0].s3Key.lastIndexOf('/') + 1);
    const notReady = () =>
      new AppError(409, 'STREAM_NOT_READY', 'This media has no stream to play yet; it is made when processing ends.');
    if (media.status !== 'complete' || !folder || !folder.startsWith(outputPrefix(media.userId, media.id)))
      throw notReady();
    const own = new Set<string>();
    for (const r of renditions) {
      if (!r.s3Key.startsWith(folder)) continue;
      const name = r.s3Key.slice(folder.length);
      for (const suffix of ['.m3u8', '_v4.m3u8', '_iframe.m3u8']) own.add(name + suffix);
    }
    const playlists = (await listKeys(this.d.s3, this.d.bucket, folder))
      .map((k) => k.slice(folder.length))
      .filter((n) => n.endsWith('.m3u8') && !n.includes('/'));
    const master = playlists.filter((n) => !own.has(n)).sort()[0];
    if (!master) throw notReady();
    return { media, folder, masterKey: folder + master, variants: new Set(playlists.filter((n) => own.has(n))) };
  }

  /** The text of one of the stream's objects. */
  async readText(key: string): Promise<string> {
    const res = await this.d.s3.send(new GetObjectCommand({ Bucket: this.d.bucket, Key: key }));
    return (await res.Body?.transformToString('utf8')) ?? '';
  }

  /** A short-lived GET of one object, for a player (no download disposition). */
  presignGet(key: string, signer: S3Client, expiresIn: number): Promise<string> {
    return getSignedUrl(signer, new GetObjectCommand({ Bucket: this.d.bucket, Key: key }), { expiresIn });
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
    // Its notifications go with its row (notifications.media_id cascades).
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

/**
 * The name a download is saved under: the file's name as the user gave it (its last path segment, no control
 * characters) with the output's own ending (`voice memo [v2].wav`, `clip (final)-480p.mp4`); the stored key's
 * name when there is no such name, or the output is not named after its media.
 */
export function downloadName(media: Pick<Media, 'name' | 'originalName'>, output: Pick<Output, 's3Key'>): string {
  const stored = output.s3Key.split('/').pop() || 'download';
  const given = (media.originalName ?? '')
    .split(/[/\\]/)
    .pop()!
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  if (!given) return stored;
  // An output named otherwise than after its media (another profile's layout) keeps its own name.
  const storedBase = baseName(media.name);
  if (!stored.startsWith(storedBase)) return stored;
  return `${baseName(given)}${stored.slice(storedBase.length)}`;
}

export const notFound = () => new AppError(404, 'NOT_FOUND', 'No such media.');
