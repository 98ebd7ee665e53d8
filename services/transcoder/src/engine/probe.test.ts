import { describe, expect, it } from 'vitest';
import { detectedProperties, formatFrameRate, parseProbe } from './probe';

describe('parseProbe', () => {
  it('reads a phone video shot in portrait: display size after rotation, frame rate, audio', () => {
    const probe = parseProbe(
      {
        format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '12.345678' },
        streams: [
          {
            index: 0,
            codec_type: 'video',
            codec_name: 'h264',
            width: 1920,
            height: 1080,
            avg_frame_rate: '30000/1001',
            r_frame_rate: '30/1',
            sample_aspect_ratio: '1:1',
            side_data_list: [{ rotation: -90 }],
          },
          { index: 1, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2 },
        ],
      },
      5_000_000,
    );
    expect(probe).toEqual({
      formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
      fileSize: 5_000_000,
      durationMillis: 12346,
      video: {
        index: 0,
        codec: 'h264',
        width: 1080,
        height: 1920,
        frameRate: 30000 / 1001,
        rotation: 90,
        sampleAspectRatio: 1,
      },
      audio: { index: 1, codec: 'aac', sampleRate: 48000, channels: 2 },
    });
    expect(detectedProperties(probe)).toEqual({
      Width: 1080,
      Height: 1920,
      FrameRate: '29.97',
      FileSize: 5_000_000,
      DurationMillis: 12346,
    });
  });

  it('does not take an MP3 cover picture for video', () => {
    const probe = parseProbe(
      {
        format: { format_name: 'mp3', duration: '180.0' },
        streams: [
          { index: 0, codec_type: 'audio', codec_name: 'mp3', sample_rate: '44100', channels: 2 },
          {
            index: 1,
            codec_type: 'video',
            codec_name: 'mjpeg',
            width: 500,
            height: 500,
            disposition: { attached_pic: 1 },
          },
        ],
      },
      4_000_000,
    );
    expect(probe.video).toBeUndefined();
    expect(detectedProperties(probe)).toEqual({ FileSize: 4_000_000, DurationMillis: 180_000 });
  });

  it.each([
    [30000 / 1001, '29.97'],
    [24000 / 1001, '23.97'],
    [25, '25'],
    [60000 / 1001, '59.94'],
    [15, '15'],
  ])('writes %d fps as %s', (fps, text) => {
    expect(formatFrameRate(fps)).toBe(text);
  });
});
