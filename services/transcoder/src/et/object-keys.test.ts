import { describe, expect, it } from 'vitest';
import { CreateJobRequest, hasDotDotSegment, parseRequest } from './shapes';

// CreateJob refuses keys that climb out of their folder: `..` as a whole path segment of a key, a prefix,
// a thumbnail pattern, a playlist name, or of a prefix joined to one of them.

const PRESET = '1351620000001-300300';
const job = (over: Record<string, unknown> = {}) => ({
  PipelineId: '1111111111111-abcdef',
  Input: { Key: 'uploads/in.mp3' },
  Outputs: [{ Key: 'out.wav', PresetId: PRESET }],
  ...over,
});
const messageOf = (body: unknown) => {
  try {
    parseRequest(CreateJobRequest, body);
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
  return 'accepted';
};
const refusal = (value: string, member: string, constraint = "Member must not contain '..' as a path segment") =>
  `ValidationException: 1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`;

describe('hasDotDotSegment', () => {
  it.each([
    ['..', true],
    ['../x', true],
    ['a/../b', true],
    ['a/..', true],
    ['a//../b', true],
    ['a..b', false],
    ['..hidden/x', false],
    ['x/trailing..', false],
    ['.../x', false],
    ['./x', false],
    ['a/b', false],
  ])('%s → %s', (key, expected) => {
    expect(hasDotDotSegment(key)).toBe(expected);
  });
});

describe('CreateJob refuses .. path segments with a ValidationException naming the member', () => {
  it.each([
    [job({ Input: { Key: '../secret.mp3' } }), refusal('../secret.mp3', 'input.key')],
    [job({ Inputs: [{ Key: 'a/../../b.mp3' }] }), refusal('a/../../b.mp3', 'inputs.1.member.key')],
    [
      job({ Outputs: [{ Key: '../../escaped.wav', PresetId: PRESET }] }),
      refusal('../../escaped.wav', 'outputs.1.member.key'),
    ],
    [
      job({
        Outputs: [
          { Key: 'ok.wav', PresetId: PRESET },
          { Key: 'x/../../y.wav', PresetId: PRESET },
        ],
      }),
      refusal('x/../../y.wav', 'outputs.2.member.key'),
    ],
    [job({ Outputs: undefined, Output: { Key: '..', PresetId: PRESET } }), refusal('..', 'output.key')],
    [job({ OutputKeyPrefix: '../elsewhere/' }), refusal('../elsewhere/', 'outputKeyPrefix')],
    [job({ OutputKeyPrefix: 'media/../../' }), refusal('media/../../', 'outputKeyPrefix')],
    [
      job({ Outputs: [{ Key: 'out.wav', PresetId: PRESET, ThumbnailPattern: '../thumbs/{count}' }] }),
      refusal('../thumbs/{count}', 'outputs.1.member.thumbnailPattern'),
    ],
    [
      job({ Playlists: [{ Name: '../index', Format: 'HLSv3', OutputKeys: ['out.wav'] }] }),
      refusal('../index', 'playlists.1.member.name'),
    ],
    [
      job({ Outputs: [{ Key: 'out.wav', PresetId: PRESET, Watermarks: [{ InputKey: '../logo.png' }] }] }),
      refusal('../logo.png', 'outputs.1.member.watermarks.1.member.inputKey'),
    ],
  ])('%j', (body, message) => {
    expect(messageOf(body)).toBe(message);
  });

  it.each([
    [
      job({ OutputKeyPrefix: 'a/.', Outputs: [{ Key: './b.wav', PresetId: PRESET }] }),
      refusal('./b.wav', 'outputs.1.member.key', "OutputKeyPrefix + Key must not contain '..' as a path segment"),
    ],
    [
      job({ OutputKeyPrefix: '.', Outputs: undefined, Output: { Key: './b.wav', PresetId: PRESET } }),
      refusal('./b.wav', 'output.key', "OutputKeyPrefix + Key must not contain '..' as a path segment"),
    ],
    [
      job({ OutputKeyPrefix: 'v/.', Outputs: [{ Key: 'o.wav', PresetId: PRESET, ThumbnailPattern: './t-{count}' }] }),
      refusal(
        './t-{count}',
        'outputs.1.member.thumbnailPattern',
        "OutputKeyPrefix + ThumbnailPattern must not contain '..' as a path segment",
      ),
    ],
    [
      job({ OutputKeyPrefix: 'hls/.', Playlists: [{ Name: './index', Format: 'HLSv3', OutputKeys: ['out.wav'] }] }),
      refusal('./index', 'playlists.1.member.name', "OutputKeyPrefix + Name must not contain '..' as a path segment"),
    ],
  ])('a prefix and a member clean apart but not together: %j', (body, message) => {
    expect(messageOf(body)).toBe(message);
  });

  it('accepts names that merely contain two dots, and a prefix joined to them', () => {
    expect(
      messageOf(
        job({
          Input: { Key: 'uploads/..hidden/a..b.mp3' },
          OutputKeyPrefix: 'media/v1..2/',
          Outputs: [{ Key: 'out..wav', PresetId: PRESET, ThumbnailPattern: 'thumbs..{count}' }],
          Playlists: [{ Name: 'index..m', Format: 'HLSv3', OutputKeys: ['out..wav'] }],
        }),
      ),
    ).toBe('accepted');
  });
});
