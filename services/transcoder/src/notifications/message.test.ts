import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../et/wire';
import { jacksonPretty, jobNotification } from './message';

describe('jacksonPretty', () => {
  it('prints as the service did: 2-space objects, " : " separators, inline arrays', () => {
    expect(jacksonPretty({ state: 'COMPLETED', n: 3, outputs: [{ id: '1' }], playlists: [], m: {} })).toBe(
      '{\n  "state" : "COMPLETED",\n  "n" : 3,\n  "outputs" : [ {\n    "id" : "1"\n  } ],\n  "playlists" : [ ],\n  "m" : { }\n}',
    );
  });
});

const job: JobRecord = {
  id: '1464574390308-dd3t38',
  pipelineId: '1464551986249-lqqtib',
  status: 'Complete',
  input: { Key: 'uploads/a.mp3', FrameRate: 'auto' },
  outputKeyPrefix: 'out/',
  userMetadata: { mediaId: 'm' },
  playlists: [],
  detected: null,
  progress: 100,
  errorCode: null,
  errorDetail: null,
  submitTimeMillis: 1,
  startTimeMillis: 2,
  finishTimeMillis: 3,
  leaseOwner: null,
  leaseUntil: null,
  attempts: 1,
  outputs: [
    {
      jobId: '1464574390308-dd3t38',
      outputId: '1',
      position: 0,
      spec: { Key: 'a.wav', PresetId: '1351620000001-300300' },
      key: 'a.wav',
      presetId: '1351620000001-300300',
      status: 'Complete',
      statusDetail: null,
      errorCode: null,
      duration: 597,
      durationMillis: 597_000,
      width: null,
      height: null,
      fileSize: 10,
      frameRate: null,
      thumbnailKeys: null,
    },
  ],
};

describe('jobNotification', () => {
  it('builds the COMPLETED message in the service key order, audio outputs with no width or height', () => {
    const m = jobNotification('COMPLETED', job);
    expect(Object.keys(m).join(' ')).toBe(
      'state version jobId pipelineId input inputCount outputKeyPrefix outputs playlists userMetadata',
    );
    expect(m.input).toEqual({ key: 'uploads/a.mp3', frameRate: 'auto' });
    // fileSize and durationMillis are this engine's extension to the service's message.
    expect(m.outputs).toEqual([
      {
        id: '1',
        key: 'a.wav',
        presetId: '1351620000001-300300',
        status: 'Complete',
        duration: 597,
        fileSize: 10,
        durationMillis: 597_000,
      },
    ]);
  });

  it('puts the job-level errorCode and messageDetails right after state on ERROR', () => {
    const failed = { ...job, status: 'Error' as const, errorCode: 3001, errorDetail: '3001 x: missing' };
    const m = jobNotification('ERROR', {
      ...failed,
      outputs: failed.outputs.map((o) => ({
        ...o,
        status: 'Error' as const,
        errorCode: 3001,
        statusDetail: '3001 x: missing',
      })),
    });
    expect(Object.keys(m).slice(0, 4)).toEqual(['state', 'errorCode', 'messageDetails', 'version']);
    expect(m.outputs![0]).toEqual({
      id: '1',
      key: 'a.wav',
      presetId: '1351620000001-300300',
      status: 'Error',
      statusDetail: '3001 x: missing',
      errorCode: 3001,
    });
  });

  it('marks every output Progressing on PROGRESSING and carries progress only when given', () => {
    expect(jobNotification('PROGRESSING', job).outputs![0]!.status).toBe('Progressing');
    expect(jobNotification('PROGRESSING', job)).not.toHaveProperty('progress');
    expect(jobNotification('PROGRESSING', job, { progress: 40 }).progress).toBe(40);
  });

  it("carries the playlists and a numeric segmentDuration, as in the service's HLS messages", () => {
    const hls: JobRecord = {
      ...job,
      outputs: [
        {
          ...job.outputs[0]!,
          key: 'hls_400k',
          spec: { Key: 'hls_400k', PresetId: '1351620000001-200055', SegmentDuration: '10' },
          presetId: '1351620000001-200055',
        },
      ],
      playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: ['hls_400k'], Status: 'Submitted' }],
    };
    const progressing = jobNotification('PROGRESSING', hls);
    expect(progressing.outputs![0]).toEqual({
      id: '1',
      presetId: '1351620000001-200055',
      key: 'hls_400k',
      segmentDuration: 10,
      status: 'Progressing',
    });
    expect(progressing.playlists).toEqual([
      { name: 'index', format: 'HLSv3', outputKeys: ['hls_400k'], status: 'Progressing' },
    ]);
    const failed = jobNotification('ERROR', {
      ...hls,
      playlists: [{ ...hls.playlists[0]!, Status: 'Error', StatusDetail: '1001 x: dependency' }],
    });
    expect(failed.playlists).toEqual([
      { name: 'index', format: 'HLSv3', outputKeys: ['hls_400k'], status: 'Error', statusDetail: '1001 x: dependency' },
    ]);
  });
});
