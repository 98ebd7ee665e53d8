// CreateJob refuses keys that climb out of their folder (`..` as a path segment), naming the member, and
// records nothing; two dots inside a name are a name.
import net from 'node:net';
import {
  CreateJobCommand,
  CreatePipelineCommand,
  ListJobsByPipelineCommand,
  ListJobsByStatusCommand,
  type CreateJobRequest,
} from '@aws-sdk/client-elastic-transcoder';
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
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({ Name: 'keys', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
  );
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
    [
      'Outputs.Key',
      () => ({ Outputs: [{ Key: '../../escaped.wav', PresetId: PRESET }] }),
      'outputs.1.member.key',
      '../../escaped.wav',
    ],
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
    expect(err.message).toMatch(
      new RegExp(
        `^1 validation error detected: Value '${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' at '${member}' failed to satisfy constraint: .*must not contain '\\.\\.' as a path segment$`,
      ),
    );
    const { Jobs } = await svc.client.send(new ListJobsByPipelineCommand({ PipelineId: pipelineId }));
    expect(Jobs).toEqual([]);
  });

  it('accepts keys that merely contain two dots', async () => {
    const { Job } = await svc.client.send(
      new CreateJobCommand(
        job({
          Input: { Key: 'uploads/a..b.mp3' },
          OutputKeyPrefix: 'media/v1..2/',
          Outputs: [{ Key: '..out.wav', PresetId: PRESET, ThumbnailPattern: 't..{count}' }],
        }),
      ),
    );
    expect(Job?.Status).toBe('Submitted');
    expect(Job?.Outputs?.[0]?.Key).toBe('..out.wav');
  });

  it('still answers /healthz', async () => {
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });
});

describe('ListJobsByStatus with a status that is not one', () => {
  it('answers a ValidationException naming the member status', async () => {
    const err = await errorOf(svc.client.send(new ListJobsByStatusCommand({ Status: 'Finished' })));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe(
      "1 validation error detected: Value 'Finished' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Submitted, Progressing, Complete, Canceled, Error]",
    );
  });
});

describe('a request that is not signed by a known key', () => {
  it('is refused with 403 from its headers, before its body is sent', async () => {
    const { port } = new URL(svc.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        // Headers only: the 1 MiB body never comes.
        socket.write(
          `POST /2012-09-25/jobs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\nAuthorization: AWS4-HMAC-SHA256 Credential=NOTAKEY/20260101/us-east-1/elastictranscoder/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}\r\n\r\n`,
        );
      });
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      setTimeout(() => reject(new Error('no answer before the body')), 5000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 403/);
    expect(answer.toLowerCase()).toContain('x-amzn-errortype: accessdeniedexception');
  });
});
