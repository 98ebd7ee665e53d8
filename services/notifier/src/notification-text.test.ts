import { describe, expect, it } from 'vitest';
import { isStoredKind, notificationContent } from './notification-text';

const media = { id: '5f2b2c1e-8a4d-4a57-9d0e-1c2b3a4d5e6f', name: 'song.mp3', statusDetail: null };

describe('notificationContent', () => {
  it('tells the owner a file has been processed, keyed by kind and media', () => {
    expect(notificationContent('media.complete', media)).toEqual({
      kind: 'media.complete',
      text: 'Your file song.mp3 has been processed',
      dedupeKey: `media.complete:${media.id}`,
    });
  });

  it('gives the reason of a failure', () => {
    const c = notificationContent('media.failed', {
      ...media,
      statusDetail: 'Invalid data found when processing input',
    });
    expect(c.text).toBe('Your file song.mp3 could not be processed: Invalid data found when processing input');
    expect(c.dedupeKey).toBe(`media.failed:${media.id}`);
  });

  it('says "unknown error" when the failure has no detail', () => {
    expect(notificationContent('media.failed', media).text).toBe(
      'Your file song.mp3 could not be processed: unknown error',
    );
  });

  it('keeps the text on one line and bounded', () => {
    const c = notificationContent('media.failed', { ...media, name: 'a\nb\r\n.mp3', statusDetail: 'x'.repeat(1000) });
    expect(c.text).not.toMatch(/[\r\n]/);
    expect(c.text.startsWith('Your file a b .mp3 could not be processed: ')).toBe(true);
    expect(c.text.length).toBeLessThan(400);
  });
});

describe('isStoredKind', () => {
  it.each([
    ['media.complete', true],
    ['media.failed', true],
    ['media.processing', false],
    ['media.progress', false],
  ] as const)('%s → %s', (kind, stored) => {
    expect(isStoredKind(kind)).toBe(stored);
  });
});
