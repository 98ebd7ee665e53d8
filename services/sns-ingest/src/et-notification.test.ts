import { describe, expect, it } from 'vitest';
import type { EtNotification } from '@mp/contracts';
import { notifyKindFor, parseEtNotification, planEtUpdate, readableDetail } from './et-notification';

const mediaId = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const userId = '0b9c6f5e-2d3a-4c1b-9e8f-7a6b5c4d3e2f';
const prefix = `transcoded/${userId}/${mediaId}/`;

function notification(over: Partial<EtNotification>): EtNotification {
  return {
    state: 'PROGRESSING',
    version: '2012-09-25',
    jobId: '1464574390308-dd3t38',
    pipelineId: '1464551986249-lqqtib',
    input: { key: `media/${userId}/${mediaId}/song.mp3` },
    outputKeyPrefix: prefix,
    userMetadata: { mediaId, userId },
    ...over,
  };
}

describe('planEtUpdate', () => {
  it('PROGRESSING: media processing with its progress, submitted and progressing outputs progressing', () => {
    const plan = planEtUpdate(
      notification({
        progress: 42.4,
        outputs: [
          { id: '1', presetId: 'p', key: 'song.wav', status: 'Progressing' },
          { id: '2', presetId: 'p', key: 'song.flac', status: 'Submitted' },
        ],
      }),
    );
    expect(plan).toEqual({
      mediaId,
      userId,
      jobId: '1464574390308-dd3t38',
      media: { status: 'processing', progress: 42 },
      outputs: [
        { s3Key: `${prefix}song.wav`, status: 'progressing' },
        { s3Key: `${prefix}song.flac`, status: 'progressing' },
      ],
    });
  });

  it('PROGRESSING without the progress extension leaves progress alone; out-of-range figures are clamped', () => {
    expect(planEtUpdate(notification({})).media).toEqual({ status: 'processing', progress: null });
    expect(planEtUpdate(notification({ progress: 250 })).media).toEqual({ status: 'processing', progress: 100 });
    expect(planEtUpdate(notification({ progress: -3 })).media).toEqual({ status: 'processing', progress: 0 });
  });

  it('COMPLETED: outputs complete with size, duration in ms and dimensions, matched by prefix + key', () => {
    const plan = planEtUpdate(
      notification({
        state: 'COMPLETED',
        outputs: [
          {
            id: '1',
            presetId: 'p',
            key: 'song.mp4',
            status: 'Complete',
            duration: 597,
            width: 400,
            height: 224,
            fileSize: 1234,
          },
          { id: '2', presetId: 'p', key: 'song.wav', status: 'Complete', durationMillis: 597_250 },
        ],
      }),
    );
    expect(plan.media).toEqual({ status: 'complete', statusDetail: null });
    expect(plan.outputs).toEqual([
      {
        s3Key: `${prefix}song.mp4`,
        status: 'complete',
        statusDetail: undefined,
        size: 1234,
        durationMs: 597_000,
        width: 400,
        height: 224,
      },
      {
        s3Key: `${prefix}song.wav`,
        status: 'complete',
        statusDetail: undefined,
        size: undefined,
        durationMs: 597_250,
        width: undefined,
        height: undefined,
      },
    ]);
  });

  it('COMPLETED without outputKeyPrefix matches on the bare key', () => {
    const plan = planEtUpdate(
      notification({
        state: 'COMPLETED',
        outputKeyPrefix: undefined,
        outputs: [{ id: '1', presetId: 'p', key: 'a/b.wav', status: 'Complete' }],
      }),
    );
    expect(plan.outputs[0]!.s3Key).toBe('a/b.wav');
  });

  it('COMPLETED with a warning-like statusDetail keeps it, readable', () => {
    const detail = 'The starting time plus the duration of a clip exceeded the length of the input file.';
    const plan = planEtUpdate(
      notification({
        state: 'COMPLETED',
        outputs: [{ id: '1', presetId: 'p', key: 'x.mp4', status: 'Complete', statusDetail: detail, duration: 90 }],
      }),
    );
    expect(plan.media).toEqual({ status: 'complete', statusDetail: detail });
    expect(plan.outputs[0]).toMatchObject({ status: 'complete', statusDetail: detail, durationMs: 90_000 });
  });

  it('ERROR at job level: the reason is messageDetails without the request id; unfinished outputs fail with it', () => {
    const plan = planEtUpdate(
      notification({
        state: 'ERROR',
        errorCode: 3001,
        messageDetails:
          '3001 832090b4-c285-4e4f-ad9f-4d287ed5c784: The specified object does not exist in the specified S3 bucket: bucket=b, key=k.',
        outputs: [{ id: '1', presetId: 'p', key: 'song.wav', status: 'Progressing' }],
      }),
    );
    const reason = 'The specified object does not exist in the specified S3 bucket: bucket=b, key=k. (error 3001)';
    expect(plan.media).toEqual({ status: 'failed', statusDetail: reason });
    expect(plan.outputs).toEqual([{ s3Key: `${prefix}song.wav`, status: 'error', statusDetail: reason }]);
  });

  it("ERROR at output level: the reason is the failed outputs' statusDetail; completed outputs stay complete", () => {
    const plan = planEtUpdate(
      notification({
        state: 'ERROR',
        outputs: [
          {
            id: '1',
            presetId: 'p',
            key: 'song.wav',
            status: 'Error',
            errorCode: 4000,
            statusDetail:
              '4000 68c8117b-a562-42a7-8cd7-ad6d4e74b885:Amazon Elastic Transcoder could not interpret the media file.',
          },
          { id: '2', presetId: 'p', key: 'song.flac', status: 'Complete', duration: 3 },
        ],
      }),
    );
    const reason = 'Amazon Elastic Transcoder could not interpret the media file. (error 4000)';
    expect(plan.media).toEqual({ status: 'failed', statusDetail: reason });
    expect(plan.outputs[0]).toEqual({ s3Key: `${prefix}song.wav`, status: 'error', statusDetail: reason });
    expect(plan.outputs[1]).toMatchObject({ s3Key: `${prefix}song.flac`, status: 'complete', durationMs: 3000 });
  });

  it('ERROR with no detail at all still gives a sentence', () => {
    expect(planEtUpdate(notification({ state: 'ERROR', errorCode: 9001 })).media).toEqual({
      status: 'failed',
      statusDetail: 'Transcoding failed (error 9001).',
    });
    expect(planEtUpdate(notification({ state: 'ERROR' })).media).toEqual({
      status: 'failed',
      statusDetail: 'Transcoding failed.',
    });
  });
});

describe('notifyKindFor', () => {
  it.each([
    ['processing', true, false, 'media.processing'],
    ['processing', false, true, 'media.progress'],
    ['processing', false, false, null],
    ['complete', true, false, 'media.complete'],
    ['complete', false, false, null],
    ['failed', true, false, 'media.failed'],
    ['failed', false, false, null],
  ] as const)('%s, status changed %s, progress changed %s → %s', (change, statusChanged, progressChanged, kind) => {
    expect(notifyKindFor(change, { statusChanged, progressChanged })).toBe(kind);
  });
});

describe('parseEtNotification', () => {
  it('accepts the real message shape with extra keys', () => {
    const r = parseEtNotification({
      ...notification({}),
      inputCount: 1,
      playlists: [],
      userMetadata: { mediaId, userId, other: 'x' },
    });
    expect(r.ok).toBe(true);
  });

  it.each([
    ['no userMetadata', { ...notification({}), userMetadata: undefined }, /userMetadata/],
    [
      'a media id that is not a uuid',
      notification({ userMetadata: { mediaId: '../x', userId } }),
      /userMetadata.mediaId/,
    ],
    ['an unknown state', { ...notification({}), state: 'DONE' }, /state/],
    ['an output without key', notification({ outputs: [{ status: 'Complete' } as never] }), /outputs.0.key/],
    [
      'a negative size',
      notification({ outputs: [{ id: '1', presetId: 'p', key: 'k', status: 'Complete', fileSize: -1 }] }),
      /fileSize/,
    ],
  ])('refuses %s', (_name, value, message) => {
    const r = parseEtNotification(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe('readableDetail', () => {
  it.each([
    ['4000 68c8117b-a562-42a7-8cd7-ad6d4e74b885:Could not interpret.', 'Could not interpret. (error 4000)'],
    ['3002 97b2b99e-…: Output exists.', 'Output exists. (error 3002)'],
    ['  plain text  ', 'plain text'],
  ])('%j → %j', (input, out) => {
    expect(readableDetail(input)).toBe(out);
  });

  it('bounds the length', () => {
    expect(readableDetail('x'.repeat(5000))).toHaveLength(1000);
  });
});
