import { describe, expect, it } from 'vitest';
import { failureOf, outputKind, outputLabel } from './words';

const o = (format: string, contentType: string | null, height: number | null = null, width: number | null = null) => ({
  format,
  contentType,
  height,
  width,
});

describe('outputLabel', () => {
  it.each([
    [o('wav', 'audio/wav'), 'audio', 'WAV audio (uncompressed)'],
    [o('flac', 'audio/flac'), 'audio', 'FLAC audio (lossless)'],
    [o('m4a', 'audio/mp4'), 'audio', 'AAC audio'],
    [o('mp4-480p', 'video/mp4', 480, 854), 'video', 'MP4 video, 480p'],
    [o('mp4-720p', 'video/mp4'), 'video', 'MP4 video'],
    [o('hls-2m', 'application/vnd.apple.mpegurl', 576), 'video', 'Stream, 576p'],
    [o('half', 'image/png', 300, 400), 'image', 'Half-size image'],
    [o('thumb-320', 'image/png', 240, 320), 'image', 'Small image (320 px)'],
  ] as const)('%j is "%s"', (output, kind, label) => {
    expect(outputLabel(output, kind)).toBe(label);
  });

  it('tells a stream rendition from a file', () => {
    expect(outputKind(o('hls-1m', 'application/vnd.apple.mpegurl'), 'video')).toBe('stream');
    expect(outputKind(o('mp4-480p', 'video/mp4'), 'video')).toBe('video');
    expect(outputKind(o('m4a', 'audio/mp4'), 'audio')).toBe('audio');
  });
});

describe('failureOf', () => {
  it('says an unreadable file could not be read, without the vendor text up front, and keeps it as the detail', () => {
    const detail = 'Amazon Elastic Transcoder could not interpret the media file. (error 4000)';
    const f = failureOf('failed', detail, 'video')!;
    expect(f.message).toMatch(/^This file could not be read as audio or video\./);
    expect(f.message).not.toMatch(/Amazon|Elastic|4000/);
    expect(f.detail).toBe(detail);
    expect(failureOf('failed', detail, 'audio')!.message).toMatch(/^This file could not be read as audio\./);
  });

  it('has a message for an image and for an unknown reason, and none for a media that did not fail', () => {
    expect(failureOf('failed', 'The image could not be processed: x', 'image')!.message).toMatch(/^This image/);
    expect(failureOf('failed', null, 'audio')).toEqual({
      message: expect.stringMatching(/could not be processed/),
      detail: null,
    });
    expect(failureOf('complete', null, 'audio')).toBeNull();
  });
});
