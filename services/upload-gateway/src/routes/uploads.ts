import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NodeRequest } from 'srvx/node';
import { AppError } from '@mp/contracts';
import type { Db } from '@mp/db';
import type { Logger } from '@mp/logging';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3SettingsFromConfig } from '@mp/storage';
import type { GatewayConfig } from '../config';
import type { MediaService } from '../media.service';
import { useBodyStream } from '../tus/body-stream';
import { isUploadId, ResumableUploads, UPLOADS_PATH, type UploadRequestContext } from '../tus/resumable';
import { sniffFirstBytes } from '../tus/sniff';
import { currentUser } from './auth';

export interface UploadRouteDeps {
  cfg: GatewayConfig;
  db: Db;
  /** The gateway's S3 client (the tus store keeps one of its own for the parts). */
  s3: S3Client;
  media: MediaService;
  log: Logger;
}

const TUS_HEADERS = {
  type: 'object',
  properties: { 'tus-resumable': { type: 'string', enum: ['1.0.0'] } },
} as const;

/** tus's own (plain-text) refusals, in the project's codes. */
const TUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'OFFSET_CONFLICT',
  410: 'UPLOAD_EXPIRED',
  412: 'TUS_VERSION_REQUIRED',
  413: 'FILE_TOO_LARGE',
  415: 'UNSUPPORTED_CONTENT_TYPE',
  460: 'CHECKSUM_MISMATCH',
  501: 'NOT_IMPLEMENTED',
};

/**
 * Resumable uploads (tus 1.0) under /v1/uploads, behind the bearer auth of every /v1 route. The route checks
 * the upload is the caller's (another user's answers 404) and sniffs the first bytes written at offset 0,
 * then hands the request to @tus/server, whose answer it sends with errors as `{ error: { code, message } }`.
 * Bodies are not parsed: @tus/server streams them into S3. Expired uploads are swept every
 * UPLOAD_EXPIRY_SWEEP_MS. @tus/server's locker is per process: requests for one upload must reach one
 * gateway at a time (see the README).
 */
export async function registerUploadRoutes(app: FastifyInstance, deps: UploadRouteDeps): Promise<ResumableUploads> {
  const { cfg, log } = deps;
  const uploads = new ResumableUploads({
    db: deps.db,
    s3: deps.s3,
    s3Settings: s3SettingsFromConfig(cfg),
    bucket: cfg.S3_BUCKET,
    media: deps.media,
    log,
    maxUploadBytes: cfg.MAX_UPLOAD_BYTES,
    partBytes: cfg.UPLOAD_PART_BYTES,
    partsPerUpload: cfg.UPLOAD_QUEUE_SIZE,
    quotaBytes: cfg.UPLOADS_QUOTA_BYTES,
    expiryMs: Math.round(cfg.UPLOAD_EXPIRY_HOURS * 3_600_000),
  });
  const sweeper = setInterval(() => {
    uploads
      .sweep()
      .then((n) => n > 0 && log.info({ removed: n }, 'expired uploads removed'))
      .catch((err) => log.warn({ err: (err as Error).message }, 'upload expiry sweep failed'));
  }, cfg.UPLOAD_EXPIRY_SWEEP_MS);
  sweeper.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    uploads.close();
  });

  await app.register(async (scope) => {
    // The body is @tus/server's to read, whatever its type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const idle = { bodyIdleTimeoutMs: cfg.UPLOAD_IDLE_TIMEOUT_MS };
    const handler = (req: FastifyRequest<{ Params: { id?: string } }>, reply: FastifyReply) =>
      handle(uploads, req, reply, req.params.id ?? null);

    scope.post(
      UPLOADS_PATH,
      {
        config: idle,
        schema: {
          tags: ['uploads'],
          summary: 'Create a resumable upload (tus creation, creation-with-upload)',
          description:
            'tus 1.0. Headers: `Tus-Resumable: 1.0.0`, `Upload-Length` (required; over the size limit: 413), ' +
            '`Upload-Metadata` (`filename` or `name`, base64, kept as given). A body of type ' +
            '`application/offset+octet-stream` is the first bytes of the file. Answers 201 with `Location` ' +
            '(the upload URL), `Upload-Offset`, `Upload-Expires` and `Media-Id` (the media it becomes). ' +
            '415 when the first bytes are not audio, video or an image; 413 over the per-user quota of ' +
            'unfinished uploads.',
          headers: TUS_HEADERS,
        },
      },
      handler,
    );
    scope.options(
      UPLOADS_PATH,
      {
        schema: {
          tags: ['uploads'],
          summary: 'tus discovery: Tus-Version, Tus-Extension, Tus-Max-Size',
        },
      },
      handler,
    );
    const byId = `${UPLOADS_PATH}/:id`;
    const params = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;
    scope.head(
      byId,
      {
        config: { swagger: { exposeHeadRoute: true } },
        schema: {
          tags: ['uploads'],
          summary: 'Where an upload stands: Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires',
          params,
          headers: TUS_HEADERS,
        },
      },
      handler,
    );
    scope.patch(
      byId,
      {
        config: idle,
        schema: {
          tags: ['uploads'],
          summary: 'Send bytes from Upload-Offset (application/offset+octet-stream)',
          description:
            'Answers 204 with the new `Upload-Offset`; 409 when `Upload-Offset` is not where the upload stands ' +
            '(ask with HEAD); 410 once expired. The request that completes the upload records the media ' +
            '(`Media-Id`) and queues its transcode, once, however often it is retried.',
          params,
          headers: TUS_HEADERS,
        },
      },
      handler,
    );
    scope.delete(
      byId,
      {
        schema: {
          tags: ['uploads'],
          summary: 'Terminate an unfinished upload: its bytes are removed (a finished one is a media: 400)',
          params,
          headers: TUS_HEADERS,
        },
      },
      handler,
    );
  });
  return uploads;
}

async function handle(
  uploads: ResumableUploads,
  req: FastifyRequest,
  reply: FastifyReply,
  id: string | null,
): Promise<FastifyReply> {
  const ctx: UploadRequestContext = { user: currentUser(req), row: null, sniffed: null };
  const carriesBody = req.headers['content-type'] === 'application/offset+octet-stream';
  reply.header('Tus-Resumable', '1.0.0');
  try {
    if (id !== null) {
      ctx.row = isUploadId(id) ? await uploads.repo.getOwned(ctx.user.id, id) : null;
      if (!ctx.row) throw new AppError(404, 'NOT_FOUND', 'No such upload.');
    }
    if (req.method === 'POST' && req.headers['upload-defer-length'] !== undefined)
      throw new AppError(400, 'LENGTH_REQUIRED', 'Send Upload-Length: uploads of unknown length are not taken.');
    if (carriesBody && (req.method === 'POST' || (req.method === 'PATCH' && req.headers['upload-offset'] === '0')))
      await sniffAtStart(uploads, req, ctx);
  } catch (err) {
    // Refused before its body was read: the connection is closed rather than the rest read on.
    if (carriesBody) {
      reply.header('connection', 'close');
      req.raw.resume();
    }
    throw err;
  }

  const request = new NodeRequest({ req: req.raw, res: reply.raw });
  useBodyStream(request, req.raw);
  uploads.bind(request, ctx);
  const res = await uploads.tus.handleWeb(request);
  const text = await res.text();
  const row = ctx.row;

  if (row && req.method === 'DELETE' && res.status === 204) await uploads.discard(row);
  // A last PATCH whose answer was lost, or whose completion failed after S3 had it all: completed here, once.
  if (row && !row.completedAt && (req.method === 'HEAD' || res.status === 409)) {
    if ((await uploads.offsetOf(row.id)) === row.length) await uploads.complete(row);
  }

  reply.code(res.status);
  res.headers.forEach((value, name) => {
    if (res.status >= 400 && (name === 'content-length' || name === 'content-type')) return;
    reply.header(name, value);
  });
  if (row) reply.header('Media-Id', row.mediaId);
  if (res.status < 400) return reply.send(text || undefined);
  return reply.send({ error: tusErrorBody(req, res.status, text) });
}

/**
 * The first bytes of a request that writes at offset 0 decide the type before any of them is stored; a
 * non-media one is refused with 415, and an upload it was for is removed. When they are too few to decide,
 * the type is decided on the stored bytes at completion.
 */
async function sniffAtStart(uploads: ResumableUploads, req: FastifyRequest, ctx: UploadRequestContext) {
  const row = ctx.row;
  if (row && (row.completedAt || (await uploads.offsetOf(row.id)) !== 0)) return; // tus answers 409
  const total = row ? row.length : Number(req.headers['upload-length']);
  if (!Number.isSafeInteger(total) || total <= 0) return; // tus refuses it
  const declared = Number(req.headers['content-length']);
  const available = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, total) : total;
  try {
    ctx.sniffed = await sniffFirstBytes(req.raw, available, total);
  } catch (err) {
    if (row && err instanceof AppError && err.statusCode === 415) await uploads.discard(row);
    throw err;
  }
  if (row && ctx.sniffed) await uploads.repo.setType(row.id, ctx.sniffed.kind, ctx.sniffed.mime);
}

function tusErrorBody(req: FastifyRequest, status: number, text: string): { code: string; message: string } {
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { error?: { code: string; message: string } };
      if (parsed.error) return parsed.error;
    } catch {
      // plain text after all
    }
  }
  if (status >= 500 && status !== 501) {
    req.log.error({ status, body: text.slice(0, 500) }, 'resumable upload failed');
    return { code: 'INTERNAL', message: 'Internal error.' };
  }
  return { code: TUS_CODES[status] ?? 'BAD_REQUEST', message: text.trim() || `tus refused the request (${status}).` };
}
