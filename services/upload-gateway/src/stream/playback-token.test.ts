import { describe, expect, it } from 'vitest';
import { checkPlaybackToken, issuePlaybackToken } from './playback-token';

const secret = 'a-secret-of-at-least-sixteen-chars';
const grant = {
  userId: '11111111-1111-4111-8111-111111111111',
  mediaId: '22222222-2222-4222-8222-222222222222',
  expiresAt: 2_000,
};

describe('playback token', () => {
  it('round-trips a grant before its expiry', () => {
    expect(checkPlaybackToken(secret, issuePlaybackToken(secret, grant), 1_999)).toEqual({ ok: true, grant });
  });

  it('is expired at and after its expiry', () => {
    expect(checkPlaybackToken(secret, issuePlaybackToken(secret, grant), 2_000)).toEqual({
      ok: false,
      code: 'PLAYBACK_TOKEN_EXPIRED',
    });
  });

  it('refuses another secret, a changed body and a changed signature', () => {
    const token = issuePlaybackToken(secret, grant);
    const [body, mac] = token.split('.') as [string, string];
    const otherMedia = issuePlaybackToken(secret, { ...grant, mediaId: '33333333-3333-4333-8333-333333333333' });
    for (const t of [
      issuePlaybackToken('another-secret-of-sixteen-chars', grant),
      `${otherMedia.split('.')[0]}.${mac}`,
      `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      body,
      '',
    ])
      expect(checkPlaybackToken(secret, t, 0)).toEqual({ ok: false, code: 'BAD_PLAYBACK_TOKEN' });
  });
});
