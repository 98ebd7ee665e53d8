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

  it('says in words why a file failed, without the engine text', () => {
    const c = notificationContent('media.failed', {
      ...media,
      kind: 'audio',
      statusDetail: 'Amazon Elastic Transcoder could not interpret the media file. (error 4000)',
    });
    expect(c.text).toBe(
      'Your file song.mp3 could not be processed: it could not be read as audio. Open it for details.',
    );
    expect(c.dedupeKey).toBe(`media.failed:${media.id}`);
    expect(
      notificationContent('media.failed', {
        ...media,
        name: 'p.png',
        kind: 'image',
        statusDetail: 'The image could not be processed: x',
      }).text,
    ).toContain('read as an image');
  });

  it('points to the details when the reason is not one it knows', () => {
    expect(notificationContent('media.failed', media).text).toBe(
      'Your file song.mp3 could not be processed. Open it for details.',
    );
  });

  it('keeps the text on one line and bounded', () => {
    const c = notificationContent('media.failed', {
      ...media,
      name: `a\nb\r\n${'x'.repeat(1000)}.mp3`,
      statusDetail: 'x'.repeat(1000),
    });
    expect(c.text).not.toMatch(/[\r\n]/);
    expect(c.text.startsWith('Your file a b x')).toBe(true);
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
