import { describe, expect, it } from 'vitest';
import { pageOf } from './paging';
import { CreateJobRequest, memberPath, parseRequest } from './shapes';
import { thumbnailMatcher } from '../jobs/engine-job.job';

const fail = (value: unknown) => {
  try {
    parseRequest(CreateJobRequest, value);
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

describe('request validation', () => {
  it('names members the way the service does', () => {
    expect(memberPath(['Outputs', 0, 'PresetId'])).toBe('outputs.1.member.presetId');
    expect(memberPath([])).toBe('body');
  });

  it.each([
    [{}, "Value null at 'pipelineId' failed to satisfy constraint: Member must not be null"],
    [
      { PipelineId: 'x' },
      "Value 'x' at 'pipelineId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\\d{13}-\\w{6}$",
    ],
    [
      { PipelineId: '1111111111111-abcdef', Outputs: 'a' },
      "Value 'a' at 'outputs' failed to satisfy constraint: Member must be of type array",
    ],
    [
      { PipelineId: '1111111111111-abcdef', Outputs: [{ Key: '', PresetId: '1111111111111-abcdef' }] },
      "at 'outputs.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    [
      { PipelineId: '1111111111111-abcdef', UserMetadata: { a: 1 } },
      "Value '1' at 'userMetadata.a' failed to satisfy constraint: Member must be of type string",
    ],
    [
      {
        PipelineId: '1111111111111-abcdef',
        UserMetadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])),
      },
      "at 'userMetadata' failed to satisfy constraint: Member must have length less than or equal to 10",
    ],
  ])('%j → %s', (body, message) => {
    expect(fail(body)).toContain(message);
  });
});

describe('pageOf', () => {
  const items = ['1000000000001-aaaaaa', '1000000000002-aaaaaa', '1000000000003-aaaaaa'].map((Id) => ({ Id }));
  it('pages forward and backward from a token, the token being the next page first id', () => {
    expect(pageOf(items, { ascending: true }, 2)).toEqual({ page: items.slice(0, 2), next: items[2]!.Id });
    expect(pageOf(items, { ascending: true, token: items[2]!.Id }, 2)).toEqual({ page: [items[2]] });
    expect(pageOf(items, { ascending: false }, 2)).toEqual({ page: [items[2], items[1]], next: items[0]!.Id });
  });
});

describe('thumbnailMatcher', () => {
  it('matches the keys a pattern produces and nothing else', () => {
    const m = thumbnailMatcher('v/thumbs/clip-{count}');
    expect(m.test('v/thumbs/clip-00001.jpg')).toBe(true);
    expect(m.test('v/thumbs/clip-00012.png')).toBe(true);
    expect(m.test('v/thumbs/clip-1.jpg')).toBe(false);
    expect(m.test('v/thumbs/clip-00001.jpg.bak')).toBe(false);
    expect(thumbnailMatcher('t/{resolution}/x{count}').test('t/1280x720/x00003.png')).toBe(true);
  });
});
