import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { AppError, type MediaDto, type MediaWithOutputs, type OutputDto } from '@mp/contracts';
import { encodeCursor, type Media, type Output } from '@mp/db';
import { MediaService, notFound } from '../media.service';
import type { PublicUrls } from '../public-urls';
import { currentUser } from './auth';
import { parseCursor } from './cursor';
import { failureOf, outputKind, outputLabel } from './words';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function mediaDto(m: Media): MediaDto {
  return {
    id: m.id,
    name: m.name,
    originalName: m.originalName ?? m.name,
    kind: m.kind,
    contentType: m.contentType,
    size: m.size,
    sha256: m.sha256,
    status: m.status,
    statusDetail: m.statusDetail,
    progress: m.progress,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
    failure: failureOf(m.status, m.statusDetail, m.kind),
  };
}

export function mediaWithOutputs(m: Media, outputs: Output[], previewUrl: string | null): MediaWithOutputs {
  return {
    ...mediaDto(m),
    outputs: outputs.map((o) => outputDto(o, m)),
    previewUrl,
    streamable: m.status === 'complete' && MediaService.streamRenditions(outputs).length > 0,
  };
}

export function outputDto(o: Output, m: Pick<Media, 'kind'>): OutputDto {
  return {
    id: o.id,
    format: o.format,
    kind: outputKind(o, m.kind),
    label: outputLabel(o, m.kind),
    status: o.status,
    statusDetail: o.statusDetail,
    contentType: o.contentType,
    size: o.size,
    durationMs: o.durationMs,
    width: o.width,
    height: o.height,
  };
}

function uuidParam(value: string): string {
  if (!UUID.test(value)) throw notFound();
  return value;
}

export interface MediaRouteOptions {
  /** An upload with no byte for this long is cut; one that keeps moving is never (uploads take no request timeout). */
  uploadIdleTimeoutMs: number;
  /** Signs S3 URLs for the host the browser reached the gateway at. */
  urls: PublicUrls;
}

export function registerMediaRoutes(app: FastifyInstance, media: MediaService, opts: MediaRouteOptions): void {
  app.post(
    '/v1/media',
    {
      schema: {
        tags: ['media'],
        summary: 'Upload a file (multipart: file, optional name)',
        consumes: ['multipart/form-data'],
      },
      config: { bodyIdleTimeoutMs: opts.uploadIdleTimeoutMs },
    },
    async (req, reply) => {
      const user = currentUser(req);
      if (!req.isMultipart())
        throw new AppError(400, 'NO_FILE', 'Send the file as multipart/form-data in a field named "file".');
      try {
        const file = await readUpload(req);
        const created = await media.upload(user.id, file);
        return reply.status(201).send(mediaWithOutputs(created, [], null));
      } catch (err) {
        if (clientGone(req)) throw uploadAbandoned(req, err);
        discardRest(req);
        reply.header('connection', 'close');
        throw err;
      }
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: number } }>(
    '/v1/media',
    {
      schema: {
        tags: ['media'],
        summary: 'Your media, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            cursor: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
        },
      },
    },
    async (req) => {
      const user = currentUser(req);
      const cursor = req.query.cursor ? parseCursor(req.query.cursor) : null;
      if (req.query.cursor && !cursor)
        throw new AppError(400, 'BAD_CURSOR', 'The cursor is not one this API gave out.');
      const page = await media.list(user.id, req.query.limit ?? 20, cursor);
      return { items: page.items.map((m) => mediaDto(m)), nextCursor: page.next ? encodeCursor(page.next) : null };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/media/:id',
    { schema: { tags: ['media'], summary: 'One media with its outputs' } },
    async (req) => {
      const user = currentUser(req);
      const { media: m, outputs } = await media.getOwned(user.id, uuidParam(req.params.id));
      return mediaWithOutputs(m, outputs, await media.previewUrl(m, outputs, opts.urls.signer(req)));
    },
  );

  app.get<{ Params: { id: string; outputId: string }; Querystring: { redirect?: boolean } }>(
    '/v1/media/:id/outputs/:outputId/download',
    {
      schema: {
        tags: ['media'],
        summary: 'Redirect to a short-lived download URL (`?redirect=false` answers it as JSON)',
        querystring: { type: 'object', properties: { redirect: { type: 'boolean', default: true } } },
      },
    },
    async (req, reply) => {
      const user = currentUser(req);
      const mediaId = uuidParam(req.params.id);
      // An output id that is not one names no output of this (existing, owned) media.
      const outputId = UUID.test(req.params.outputId) ? req.params.outputId : '00000000-0000-0000-0000-000000000000';
      const url = await media.downloadUrl(user.id, mediaId, outputId, opts.urls.signer(req));
      if (req.query.redirect === false) return { url };
      return reply.redirect(url, 302);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/media/:id',
    { schema: { tags: ['media'], summary: 'Delete a media, its objects and outputs' } },
    async (req, reply) => {
      const user = currentUser(req);
      await media.delete(user.id, uuidParam(req.params.id));
      return reply.status(204).send();
    },
  );
}

/** How much of a refused upload's body is read and dropped so the client gets the answer (an RST loses it). */
const DISCARD_LIMIT = 64 * 1024 * 1024;

/**
 * A refused upload is answered at once; the rest of its body is read and dropped (no memory kept) so that
 * the client, still sending, receives the answer rather than a reset. Past the limit the socket is closed.
 */
function discardRest(req: FastifyRequest): void {
  const raw = req.raw;
  if (raw.readableEnded) return;
  let seen = 0;
  raw.unpipe();
  raw.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT) raw.socket.destroy();
  });
  raw.resume();
}

/** Reads fields up to the file part; a `name` field before the file names it. */
async function readUpload(
  req: FastifyRequest,
): Promise<{ filename: string; stream: MultipartFile['file']; displayName?: string }> {
  let displayName: string | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume();
          continue;
        }
        return { filename: part.filename, stream: part.file, displayName };
      }
      if (part.fieldname === 'name' && typeof part.value === 'string') displayName = part.value.slice(0, 255);
    }
  } catch (err) {
    throw asMultipartError(err);
  }
  throw new AppError(400, 'NO_FILE', 'The request has no file: send it in a multipart field named "file".');
}

/** The multipart parser's own errors (a missing boundary, a malformed part) are the client's: 400, not 500. */
function asMultipartError(err: unknown): unknown {
  const e = err as { statusCode?: number; message?: string };
  if (err instanceof AppError || (e.statusCode && e.statusCode < 500)) return err;
  return new AppError(
    400,
    'BAD_MULTIPART',
    `The body is not valid multipart/form-data (${e.message ?? 'unreadable'}).`,
  );
}

/** The connection closed (by the client, or cut for stalling) before the upload was read. */
function clientGone(req: FastifyRequest): boolean {
  return !req.raw.complete && (req.raw.destroyed || req.raw.socket.destroyed);
}

/**
 * Nobody is left to answer, and nothing was stored (the upload cleans up after itself): an info line, and
 * 499 (client closed request, as nginx records it) for the request's own record rather than a 500.
 */
function uploadAbandoned(req: FastifyRequest, err: unknown): AppError {
  req.log.info(
    { bytesRead: req.raw.socket.bytesRead, reason: (err as Error).message },
    'upload abandoned: the connection closed before the file arrived',
  );
  return new AppError(499, 'UPLOAD_ABANDONED', 'The connection closed before the upload was complete.');
}
