import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type StreamLink } from '@mp/contracts';
import { notFound, type MediaService, type StreamSource } from '../media.service';
import type { PublicUrls } from '../public-urls';
import { checkPlaybackToken, issuePlaybackToken, type PlaybackGrant } from '../stream/playback-token';
import { PlaylistError, isPlainName, rewritePlaylist } from '../stream/playlist-rewrite';
import { currentUser } from './auth';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

export interface StreamRouteOptions {
  secret: string;
  ttlSeconds: number;
  urls: PublicUrls;
  now?: () => number;
}

/**
 * Video streams for players that cannot send a bearer header (hls.js, a browser's native HLS):
 * - GET /v1/media/:id/stream (bearer): the master playlist's URL, carrying a signed playback token for the
 *   owner and this media that expires with the link;
 * - GET /v1/stream/:mediaId/master.m3u8?t= : the master, its variant URIs rewritten to the next route;
 * - GET /v1/stream/:mediaId/:variant.m3u8?t= : a variant, each segment a presigned S3 GET for the public endpoint.
 * The token is the credential here; a request that also sends a bearer header must be the token's user. A bad or
 * expired token answers 403, another user's or an unknown media 404.
 */
export function registerStreamRoutes(app: FastifyInstance, media: MediaService, opts: StreamRouteOptions): void {
  const now = opts.now ?? (() => Date.now());

  app.get<{ Params: { id: string } }>(
    '/v1/media/:id/stream',
    { schema: { tags: ['media'], summary: "A video's HLS stream: its master playlist URL, valid for a short time" } },
    async (req): Promise<StreamLink> => {
      const user = currentUser(req);
      if (!UUID.test(req.params.id)) throw notFound();
      const source = await media.streamSource(user.id, req.params.id);
      const expiresAt = Math.floor(now() / 1000) + opts.ttlSeconds;
      const token = issuePlaybackToken(opts.secret, { userId: user.id, mediaId: source.media.id, expiresAt });
      return {
        masterUrl: `${opts.urls.gateway(req)}/v1/stream/${source.media.id}/master.m3u8?t=${encodeURIComponent(token)}`,
        expiresAt: new Date(expiresAt * 1000).toISOString(),
      };
    },
  );

  const tokenQuery = {
    type: 'object',
    required: ['t'],
    properties: { t: { type: 'string', maxLength: 512 } },
  } as const;

  async function authorised(req: FastifyRequest<{ Params: { mediaId: string }; Querystring: { t: string } }>) {
    const check = checkPlaybackToken(opts.secret, req.query.t, Math.floor(now() / 1000));
    if (!check.ok)
      throw new AppError(
        403,
        check.code,
        check.code === 'PLAYBACK_TOKEN_EXPIRED'
          ? 'This stream link has expired: ask GET /v1/media/:id/stream for a new one.'
          : 'This stream link is not valid.',
      );
    const grant: PlaybackGrant = check.grant;
    // The token names one user's media; another media, or another user signed in, is told nothing exists.
    if (grant.mediaId !== req.params.mediaId || (req.user && req.user.id !== grant.userId)) throw notFound();
    const source = await media.streamSource(grant.userId, grant.mediaId).catch((err: unknown) => {
      throw err instanceof AppError && err.statusCode === 409 ? notFound() : err;
    });
    return { grant, source };
  }

  const sendPlaylist = (reply: FastifyReply, text: string) =>
    reply.type(PLAYLIST_TYPE).header('cache-control', 'private, no-store').send(text);

  app.get<{ Params: { mediaId: string }; Querystring: { t: string } }>(
    '/v1/stream/:mediaId/master.m3u8',
    { schema: { tags: ['media'], summary: 'The master playlist of a stream (signed link)', querystring: tokenQuery } },
    async (req, reply) => {
      const { source } = await authorised(req);
      const t = encodeURIComponent(req.query.t);
      const stored = await readStored(media, source.masterKey);
      const text = rewrite(source, stored, (name) => {
        if (!source.variants.has(name)) throw new PlaylistError(`the master names ${name}, not a rendition`);
        return `${name}?t=${t}`;
      });
      return sendPlaylist(reply, text);
    },
  );

  app.get<{ Params: { mediaId: string; variant: string }; Querystring: { t: string } }>(
    '/v1/stream/:mediaId/:variant',
    { schema: { tags: ['media'], summary: "A rendition's playlist (signed link)", querystring: tokenQuery } },
    async (req, reply) => {
      const { grant, source } = await authorised(req);
      const name = req.params.variant;
      if (!isPlainName(name) || !source.variants.has(name)) throw new AppError(404, 'NOT_FOUND', 'No such rendition.');
      // Segment links live as long as the token does, at least a minute (S3 refuses a presign past 7 days).
      const ttl = Math.max(60, grant.expiresAt - Math.floor(now() / 1000));
      const signer = opts.urls.signer(req);
      const stored = await readStored(media, source.folder + name);
      const names = new Set<string>();
      rewrite(source, stored, (segment) => (names.add(segment), segment));
      const signed = new Map(
        await Promise.all(
          [...names].map(async (n) => [n, await media.presignGet(source.folder + n, signer, ttl)] as const),
        ),
      );
      return sendPlaylist(
        reply,
        rewrite(source, stored, (segment) => signed.get(segment)!),
      );
    },
  );
}

async function readStored(media: MediaService, key: string): Promise<string> {
  return media.readText(key).catch(() => {
    throw new AppError(404, 'NOT_FOUND', 'No such playlist.');
  });
}

/** A stored playlist with its URIs mapped; one that names anything but a file beside it is the server's fault. */
function rewrite(source: StreamSource, stored: string, to: (name: string) => string): string {
  try {
    return rewritePlaylist(stored, to);
  } catch (err) {
    if (err instanceof PlaylistError)
      throw new AppError(500, 'BAD_PLAYLIST', `The stored playlist of media ${source.media.id} is not one to serve.`);
    throw err;
  }
}
