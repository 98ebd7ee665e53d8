import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { MetadataValue } from '@tus/s3-store';
import { MemoryKvStore, Server, type Upload } from '@tus/server';
import type { ServerRequest } from 'srvx';
import { AppError } from '@mp/contracts';
import { MediaRepository, UploadsRepository, type Db, type Media, type UploadRow, type User } from '@mp/db';
import type { Logger } from '@mp/logging';
import { deleteKeys, sanitizeName, type S3Settings } from '@mp/storage';
import type { MediaService } from '../media.service';
import { MAX_ID3_BYTES, peekMedia, SNIFF_BYTES, sniff } from '../upload';
import { MemoryPartS3Store } from './memory-part-store';
import type { SniffedType } from './sniff';

/** Resumable uploads live outside media/ (where every new object becomes a media) until and after they finish. */
export const UPLOAD_PREFIX = 'uploads/';
export const UPLOADS_PATH = '/v1/uploads';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Longest Upload-Metadata name kept (bytes); the media's own name is sanitised and shorter still. */
export const MAX_NAME_BYTES = 1024;
/** Parts of resumable uploads held in memory at once by one gateway (8 MiB each by default). */
const PARTS_IN_FLIGHT = 16;

export const uploadKey = (id: string) => `${UPLOAD_PREFIX}${id}`;
export const isUploadId = (id: string) => UUID.test(id);

/** What the route knows of a request before @tus/server takes it: whose it is, its upload, its sniffed type. */
export interface UploadRequestContext {
  user: User;
  row: UploadRow | null;
  sniffed: SniffedType | null;
}

export interface ResumableDeps {
  db: Db;
  s3: S3Client;
  s3Settings: S3Settings;
  bucket: string;
  media: MediaService;
  log: Logger;
  maxUploadBytes: number;
  partBytes: number;
  /** Parts of one request sent at once while the next one fills, as UPLOAD_QUEUE_SIZE for a multipart upload. */
  partsPerUpload: number;
  quotaBytes: number;
  expiryMs: number;
}

/** An error for @tus/server's hooks, in the project's error shape. */
function tusError(status: number, code: string, message: string) {
  return { status_code: status, body: JSON.stringify({ error: { code, message } }) };
}

function asTusError(err: unknown): unknown {
  return err instanceof AppError ? tusError(err.statusCode, err.code, err.message) : err;
}

/**
 * tus 1.0 (creation, creation-with-upload, termination, expiration) over @tus/s3-store: each PATCH goes
 * straight into the upload's S3 multipart upload, under `uploads/<id>`. Postgres holds whose each upload is,
 * what it becomes and when it expires; a finished upload is recorded as a media with that key, once.
 */
export class ResumableUploads {
  readonly tus: Server;
  readonly repo: UploadsRepository;
  private readonly store: MemoryPartS3Store;
  private readonly cache = new MemoryKvStore<MetadataValue>();
  private readonly contexts = new WeakMap<ServerRequest, UploadRequestContext>();
  private readonly mediaRepo: MediaRepository;

  constructor(private readonly d: ResumableDeps) {
    this.repo = new UploadsRepository(d.db);
    this.mediaRepo = new MediaRepository(d.db);
    this.store = new MemoryPartS3Store({
      partSize: d.partBytes,
      // Parts in memory at once (sent or being filled): over all uploads of this gateway, and per request.
      maxConcurrentPartUploads: PARTS_IN_FLIGHT,
      partsPerUpload: d.partsPerUpload,
      expirationPeriodInMilliseconds: d.expiryMs,
      // Expiry is swept from Postgres, not by bucket lifecycle rules on tags.
      useTags: false,
      cache: this.cache,
      s3ClientConfig: {
        bucket: d.bucket,
        region: d.s3Settings.region,
        ...(d.s3Settings.endpoint ? { endpoint: d.s3Settings.endpoint } : {}),
        forcePathStyle: d.s3Settings.forcePathStyle,
        credentials: { accessKeyId: d.s3Settings.accessKeyId, secretAccessKey: d.s3Settings.secretAccessKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      },
    });
    // Every upload declares its length at creation: the size limit and the quota are checked then.
    this.store.extensions = this.store.extensions.filter((e) => e !== 'creation-defer-length');
    this.tus = new Server({
      path: UPLOADS_PATH,
      datastore: this.store,
      maxSize: d.maxUploadBytes,
      disableTerminationForFinishedUploads: true,
      exposedHeaders: ['Upload-Expires', 'Media-Id'],
      namingFunction: () => uploadKey(randomUUID()),
      getFileIdFromRequest: (_req, lastPath) => (lastPath && isUploadId(lastPath) ? uploadKey(lastPath) : undefined),
      // Relative, so that it holds behind any proxy; tus clients resolve it against the creation URL.
      generateUrl: (_req, { path, id }) => `${path}/${id.slice(UPLOAD_PREFIX.length)}`,
      onUploadCreate: (req, upload) => this.onCreate(req, upload).catch((err) => Promise.reject(asTusError(err))),
      onUploadFinish: (req, upload) => this.onFinish(req, upload).catch((err) => Promise.reject(asTusError(err))),
    });
  }

  /** Ties a request to what the route found out about it, for the hooks that @tus/server calls with it. */
  bind(req: ServerRequest, ctx: UploadRequestContext): void {
    this.contexts.set(req, ctx);
  }

  /** Bytes stored so far (S3 parts and the incomplete tail), or null when S3 has no such upload. */
  async offsetOf(id: string): Promise<number | null> {
    try {
      return (await this.store.getUpload(uploadKey(id))).offset;
    } catch {
      return null;
    }
  }

  private async onCreate(req: ServerRequest, upload: Upload): Promise<{ metadata: Record<string, string | null> }> {
    const ctx = this.contexts.get(req);
    if (!ctx) throw new AppError(500, 'INTERNAL', 'Internal error.');
    if (upload.size === undefined)
      throw new AppError(400, 'LENGTH_REQUIRED', 'Send Upload-Length: uploads of unknown length are not taken.');
    if (upload.size === 0) throw new AppError(400, 'EMPTY_FILE', 'The uploaded file is empty.');
    const given = upload.metadata?.filename ?? upload.metadata?.name ?? '';
    if (Buffer.byteLength(given) > MAX_NAME_BYTES)
      throw new AppError(400, 'NAME_TOO_LONG', `The name in Upload-Metadata is longer than ${MAX_NAME_BYTES} bytes.`);
    const row = await this.repo.createWithinQuota(
      {
        id: upload.id.slice(UPLOAD_PREFIX.length),
        userId: ctx.user.id,
        mediaId: randomUUID(),
        name: given,
        length: upload.size,
        expiresAt: new Date(Date.now() + this.d.expiryMs),
        ...(ctx.sniffed ? { kind: ctx.sniffed.kind, contentType: ctx.sniffed.mime } : {}),
      },
      this.d.quotaBytes,
    );
    if (!row) {
      throw new AppError(
        413,
        'UPLOAD_QUOTA_EXCEEDED',
        `Unfinished uploads may take at most ${this.d.quotaBytes} bytes per user; finish or delete one first.`,
      );
    }
    ctx.row = row;
    // The S3 object's Content-Type is the sniffed one, never the client's; the rest of the metadata is kept.
    const { contentType: _ct, cacheControl: _cc, ...metadata } = upload.metadata ?? {};
    return { metadata: ctx.sniffed ? { ...metadata, contentType: ctx.sniffed.mime } : metadata };
  }

  private async onFinish(req: ServerRequest, upload: Upload): Promise<{ headers: Record<string, string> }> {
    const id = upload.id.slice(UPLOAD_PREFIX.length);
    const row = this.contexts.get(req)?.row ?? (await this.repo.get(id));
    if (!row) throw new AppError(404, 'NOT_FOUND', 'No such upload.');
    const media = await this.complete(row);
    return { headers: { 'Media-Id': media.id } };
  }

  /**
   * A finished upload becomes a media, once: the type is decided on the stored first bytes, the media is
   * recorded by its key (a retried last PATCH finds the same row) and only a newly recorded one is queued.
   * A non-media upload is removed and answered 415.
   */
  async complete(row: UploadRow): Promise<Media> {
    const key = uploadKey(row.id);
    if (row.completedAt) {
      const existing = await this.mediaRepo.get(row.mediaId);
      if (existing) return existing;
    }
    let type: SniffedType;
    try {
      type = await this.sniffStored(key);
    } catch (err) {
      if (err instanceof AppError && err.statusCode === 415) await this.discard(row);
      throw err;
    }
    const { media, created } = await this.mediaRepo.insertOrGetByKey({
      id: row.mediaId,
      userId: row.userId,
      name: sanitizeName(row.name || `upload.${type.ext}`),
      originalName: row.name || null,
      kind: type.kind,
      contentType: type.mime,
      size: row.length,
      s3Key: key,
    });
    await this.repo.markCompleted(row.id);
    // Not queued (Redis down): the gateway's sweep queues it, as for a multipart upload.
    if (created) await this.d.media.enqueue(media.id);
    this.d.log.info({ uploadId: row.id, mediaId: media.id, created }, 'resumable upload completed');
    return (await this.mediaRepo.get(media.id)) ?? media;
  }

  private async sniffStored(key: string): Promise<SniffedType> {
    const got = await this.d.s3.send(
      new GetObjectCommand({ Bucket: this.d.bucket, Key: key, Range: `bytes=0-${MAX_ID3_BYTES + SNIFF_BYTES - 1}` }),
    );
    const body = got.Body as Readable;
    try {
      const { head } = await peekMedia(body);
      return await sniff(head);
    } finally {
      body.destroy();
    }
  }

  /** Removes an unfinished or refused upload: its S3 multipart upload, objects, cached state and row. */
  async discard(row: UploadRow): Promise<void> {
    await this.removeObjects(uploadKey(row.id), { withObject: true });
    await this.repo.delete(row.id);
  }

  /**
   * Expired uploads: an unfinished one goes entirely; a finished one keeps its object (the media's original)
   * unless the media was deleted meanwhile. Safe with several gateways at once (rows locked SKIP LOCKED).
   */
  async sweep(now = new Date()): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.repo.sweepExpired(now, 50, async (row) => {
        const keepObject = row.completedAt !== null && (await this.mediaRepo.get(row.mediaId)) !== null;
        await this.removeObjects(uploadKey(row.id), { withObject: !keepObject });
      });
      total += n;
      if (n < 50) return total;
    }
  }

  private async removeObjects(key: string, opts: { withObject: boolean }): Promise<void> {
    const open = await this.d.s3.send(new ListMultipartUploadsCommand({ Bucket: this.d.bucket, Prefix: key }));
    for (const u of open.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue;
      await this.d.s3
        .send(new AbortMultipartUploadCommand({ Bucket: this.d.bucket, Key: key, UploadId: u.UploadId }))
        .catch((err: { name?: string }) => {
          if (err.name !== 'NoSuchUpload') throw err;
        });
    }
    await deleteKeys(this.d.s3, this.d.bucket, [`${key}.info`, `${key}.part`, ...(opts.withObject ? [key] : [])]);
    await this.cache.delete(key);
  }

  close(): void {
    (this.store as unknown as { client: { destroy(): void } }).client.destroy();
  }
}
