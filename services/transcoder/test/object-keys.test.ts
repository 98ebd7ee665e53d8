// CreateJob refuses keys that climb out of their folder (`..` as a path segment), naming the member, and
// records nothing; two dots inside a name are a name.
import { CreateJobCommand, CreatePipelineCommand, ListJobsByPipelineCommand, type CreateJobRequest } from '@aws-sdk/client-elastic-transcoder';
import { SeedPresets } from '@mp/contracts';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE, errorOf, startApi, type RunningApi } from './support';

let t: TestEnv;
let svc: RunningApi;
let pipelineId: string;

beforeAll(async () => {
  t = await createTestEnv();
  svc = await startApi(t);
  const { Pipeline } = await svc.client.send(new CreatePipelineCommand({ Name: 'keys', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }));
  pipelineId = Pipeline!.Id!;
});
afterAll(async () => {
  await svc?.close();
  await t?.cleanup();
});

const PRESET = SeedPresets.wav;
const job = (over: Partial<CreateJobRequest>): CreateJobRequest => ({
  PipelineId: pipelineId,
  Input: { Key: 'uploads/in.mp3' },
  Outputs: [{ Key: 'out.wav', PresetId: PRESET }],
  ...over,
});

describe('CreateJob with .. path segments', () => {
  it.each<[string, () => Partial<CreateJobRequest>, string, string]>([
    ['Input.Key', () => ({ Input: { Key: '../../etc/passwd' } }), 'input.key', '../../etc/passwd'],
    ['Outputs.Key', () => ({ Outputs: [{ Key: '../../escaped.wav', PresetId: PRESET }] }), 'outputs.1.member.key', '../../escaped.wav'],
    ['OutputKeyPrefix', () => ({ OutputKeyPrefix: 'media/../../' }), 'outputKeyPrefix', 'media/../../'],
    [
      'ThumbnailPattern',
      () => ({ Outputs: [{ Key: 'out.wav', PresetId: PRESET, ThumbnailPattern: 'thumbs/../../{count}' }] }),
      'outputs.1.member.thumbnailPattern',
      'thumbs/../../{count}',
    ],
    [
      'OutputKeyPrefix + Key',
      () => ({ OutputKeyPrefix: 'media/.', Outputs: [{ Key: './escaped.wav', PresetId: PRESET }] }),
      'outputs.1.member.key',
      './escaped.wav',
    ],
  ])('%s answers 400 ValidationException naming the member, and records no job', async (_name, over, member, value) => {
    const err = await errorOf(svc.client.send(new CreateJobCommand(job(over()))));
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toMatch(new RegExp(`^1 validation error detected: Value '${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' at '${member}' failed to satisfy constraint: .*must not contain '\\.\\.' as a path segment$`));
    const { Jobs } = await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }));
    expect(Jobs).toEqual([]);
  });

  it('accepts keys that merely contain two dots', async () => {
    const { Job } = await svc.client.send(
      new CreateJobCommand(
        job({ Input: { Key: 'uploads/a..b.mp3' }, OutputKeyPrefix: 'media/v1..2/', Outputs: [{ Key: '..out.wav', PresetId: PRESET, ThumbnailPattern: 't..{count}' }] }),
      ),
    );
    expect(Job?.Status).toBe('Submitted');
    expect(Job?.Outputs?.[0]?.Key).toBe('..out.wav');
  });

  it('still answers /healthz', async () => {
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });
});
