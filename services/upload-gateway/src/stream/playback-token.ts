import { createHmac, timingSafeEqual } from 'node:crypto';

// A playback token lets a player that cannot send a bearer header (hls.js loading a variant, Safari's native
// HLS) fetch one media's playlists for a short time. It binds a user, a media and an expiry, and is signed
// with HMAC-SHA256 under a secret from the environment. Pure: the clock is passed in.

export interface PlaybackGrant {
  userId: string;
  mediaId: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export type TokenCheck =
  { ok: true; grant: PlaybackGrant } | { ok: false; code: 'BAD_PLAYBACK_TOKEN' | 'PLAYBACK_TOKEN_EXPIRED' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64url');

export function issuePlaybackToken(secret: string, grant: PlaybackGrant): string {
  const body = Buffer.from(`${grant.userId}.${grant.mediaId}.${grant.expiresAt}`).toString('base64url');
  return `${body}.${sign(secret, body)}`;
}

/** Verifies the signature first, then the fields and the expiry; nothing unsigned is trusted. */
export function checkPlaybackToken(secret: string, token: string, nowSeconds: number): TokenCheck {
  const bad = { ok: false, code: 'BAD_PLAYBACK_TOKEN' } as const;
  const parts = token.split('.');
  if (parts.length !== 2 || token.length > 512) return bad;
  const [body, mac] = parts as [string, string];
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return bad;
  const [userId, mediaId, exp, ...rest] = Buffer.from(body, 'base64url').toString('utf8').split('.');
  if (rest.length || !userId || !mediaId || !UUID.test(userId) || !UUID.test(mediaId) || !/^\d{1,12}$/.test(exp ?? ''))
    return bad;
  const expiresAt = Number(exp);
  if (expiresAt <= nowSeconds) return { ok: false, code: 'PLAYBACK_TOKEN_EXPIRED' };
  return { ok: true, grant: { userId, mediaId, expiresAt } };
}
