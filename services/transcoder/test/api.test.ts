import { Sha256 } from '@aws-crypto/sha256-js';
import {
  CreatePipelineCommand,
  CreatePresetCommand,
  DeletePipelineCommand,
  DeletePresetCommand,
  ListPresetsCommand,
  ReadPipelineCommand,
  ReadPresetCommand,
  TestRoleCommand,
  UpdatePipelineNotificationsCommand,
  UpdatePipelineStatusCommand,
  paginateListPipelines,
  paginateListPresets,
} from '@aws-sdk/client-elastic-transcoder';
import { SignatureV4 } from '@smithy/signature-v4';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPresets } from '../src/engine/system-presets';
import { ROLE, KEY_ID, SECRET, errorOf, signedFetch as signedFetchTo, startApi, type RunningApi } from './support';

let t: TestEnv;
let svc: RunningApi;

beforeAll(async () => {
  t = await createTestEnv();
  svc = await startApi(t);
});
afterAll(async () => {
  await svc?.close();
  await t?.cleanup();
});

const createPipeline = (name: string, extra: Record<string, unknown> = {}) =>
  svc.client.send(
    new CreatePipelineCommand({ Name: name, InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE, ...extra }),
  );

const signedFetch = (method: string, path: string, body?: string) => signedFetchTo(svc.url, method, path, body);

describe('pipelines', () => {
  it('creates a pipeline and reads it back in the service shape', async () => {
    const created = await createPipeline('read-back', {
      Notifications: { Completed: 'arn:aws:sns:us-east-1:123456789012:done' },
    });
    const p = created.Pipeline!;
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(p.Id).toMatch(/^\d{13}-\w{6}$/);
    expect(p.Arn).toBe(`arn:aws:elastictranscoder:us-east-1:123456789012:pipeline/${p.Id}`);
    expect(p.Status).toBe('Active');
    expect(p.Notifications).toEqual({
      Progressing: '',
      Completed: 'arn:aws:sns:us-east-1:123456789012:done',
      Warning: '',
      Error: '',
    });
    expect(p.ContentConfig).toEqual({ Bucket: t.bucket, Permissions: [] });
    expect(p.ThumbnailConfig).toEqual({ Bucket: t.bucket, Permissions: [] });
    const read = await svc.client.send(new ReadPipelineCommand({ Id: p.Id }));
    expect(read.Pipeline).toEqual(p);
    expect(read.$metadata.requestId).toBeTruthy();
  });

  it('pauses and updates notifications', async () => {
    const { Pipeline } = await createPipeline('pause-me');
    const paused = await svc.client.send(new UpdatePipelineStatusCommand({ Id: Pipeline!.Id, Status: 'Paused' }));
    expect(paused.Pipeline!.Status).toBe('Paused');
    const topic = 'arn:aws:sns:us-east-1:123456789012:errors';
    const updated = await svc.client.send(
      new UpdatePipelineNotificationsCommand({ Id: Pipeline!.Id, Notifications: { Error: topic } }),
    );
    expect(updated.Pipeline!.Notifications!.Error).toBe(topic);
    expect(updated.Pipeline!.Status).toBe('Paused');
  });

  it('pages ListPipelines with PageToken/NextPageToken and finds a pipeline by name, as the seed does', async () => {
    for (let i = 0; i < 52; i++) await createPipeline(`bulk-${i}`);
    const target = await createPipeline('media-pipeline');
    let pages = 0;
    let found: string | undefined;
    const names = new Set<string>();
    for await (const page of paginateListPipelines({ client: svc.client }, {})) {
      pages++;
      for (const p of page.Pipelines ?? []) {
        names.add(p.Name!);
        if (p.Name === 'media-pipeline') found = p.Id;
      }
    }
    expect(pages).toBeGreaterThan(1);
    expect(found).toBe(target.Pipeline!.Id);
    expect(names.size).toBeGreaterThanOrEqual(53);
  });

  it('deletes an idle pipeline; a second delete is ResourceNotFoundException', async () => {
    const { Pipeline } = await createPipeline('short-lived');
    const del = await svc.client.send(new DeletePipelineCommand({ Id: Pipeline!.Id }));
    expect(del.$metadata.httpStatusCode).toBe(202);
    const err = await errorOf(svc.client.send(new DeletePipelineCommand({ Id: Pipeline!.Id })));
    expect(err.name).toBe('ResourceNotFoundException');
    expect(err.$metadata?.httpStatusCode).toBe(404);
    expect(err.message).toContain(Pipeline!.Id!);
  });

  it('answers ValidationException naming the member at fault', async () => {
    const err = await errorOf(
      svc.client.send(
        new CreatePipelineCommand({ Name: 'x', InputBucket: t.bucket, OutputBucket: t.bucket, Role: 'not-a-role' }),
      ),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toContain("at 'role'");
    const both = await errorOf(
      createPipeline('x', { ContentConfig: { Bucket: t.bucket }, ThumbnailConfig: { Bucket: t.bucket } }),
    );
    expect(both.message).toBe('[OutputBucket and ContentConfig are mutually exclusive.]');
  });

  it('TestRole reports whether the buckets can be reached', async () => {
    const ok = await svc.client.send(
      new TestRoleCommand({ Role: ROLE, InputBucket: t.bucket, OutputBucket: t.bucket, Topics: [] }),
    );
    expect(ok.Success).toBe('true');
    const bad = await svc.client.send(
      new TestRoleCommand({ Role: ROLE, InputBucket: t.bucket, OutputBucket: 'no-such-bucket-here', Topics: [] }),
    );
    expect(bad.Success).toBe('false');
    expect(bad.Messages![0]).toContain('no-such-bucket-here');
  });
});

describe('presets', () => {
  it('lists every system preset over two pages, with the seed presets among them', async () => {
    const ids: string[] = [];
    let pages = 0;
    for await (const page of paginateListPresets({ client: svc.client }, {})) {
      pages++;
      for (const p of page.Presets ?? []) if (p.Type === 'System') ids.push(p.Id!);
    }
    expect(pages).toBe(2);
    expect(ids).toEqual(systemPresets('us-east-1', '123456789012').map((p) => p.Id));
    expect(ids).toEqual(
      expect.arrayContaining([
        '1351620000001-300300',
        '1351620000001-300110',
        '1351620000001-100110',
        '1351620000001-000010',
      ]),
    );
    const first = await svc.client.send(new ListPresetsCommand({}));
    expect(first.Presets).toHaveLength(50);
    expect(first.NextPageToken).toMatch(/^\d{13}-\w{6}$/);
  });

  it('reads a system preset with the caller account in its ARN', async () => {
    const { Preset } = await svc.client.send(new ReadPresetCommand({ Id: '1351620000001-100110' }));
    expect(Preset!.Type).toBe('System');
    expect(Preset!.Container).toBe('mp4');
    expect(Preset!.Audio!.Codec).toBe('AAC');
    expect(Preset!.Arn).toBe('arn:aws:elastictranscoder:us-east-1:123456789012:preset/1351620000001-100110');
  });

  it('creates, reads and deletes a custom preset; a system preset cannot be deleted', async () => {
    const created = await svc.client.send(
      new CreatePresetCommand({
        Name: 'mono mp3',
        Container: 'mp3',
        Audio: { Codec: 'mp3', SampleRate: '44100', BitRate: '96', Channels: '1' },
      }),
    );
    expect(created.$metadata.httpStatusCode).toBe(201);
    const id = created.Preset!.Id!;
    expect(created.Preset!.Type).toBe('Custom');
    const read = await svc.client.send(new ReadPresetCommand({ Id: id }));
    expect(read.Preset!.Audio).toEqual({ Codec: 'mp3', SampleRate: '44100', BitRate: '96', Channels: '1' });
    await svc.client.send(new DeletePresetCommand({ Id: id }));
    expect((await errorOf(svc.client.send(new ReadPresetCommand({ Id: id })))).name).toBe('ResourceNotFoundException');
    const sys = await errorOf(svc.client.send(new DeletePresetCommand({ Id: '1351620000001-300300' })));
    expect(sys.name).toBe('AccessDeniedException');
    expect(sys.$metadata?.httpStatusCode).toBe(403);
  });

  it('applies the service rules to CreatePreset', async () => {
    const wrongCodec = await errorOf(
      svc.client.send(
        new CreatePresetCommand({
          Name: 'bad',
          Container: 'wav',
          Audio: { Codec: 'mp3', SampleRate: '44100', BitRate: '128', Channels: '2' },
        }),
      ),
    );
    expect(wrongCodec.name).toBe('ValidationException');
    expect(wrongCodec.message).toContain('Audio:Codec mp3 is not valid for container wav');
    const video = await errorOf(
      svc.client.send(
        new CreatePresetCommand({
          Name: 'bad',
          Container: 'flac',
          Video: { Codec: 'H.264' },
          Audio: { Codec: 'flac', SampleRate: '44100', Channels: '2' },
        }),
      ),
    );
    expect(video.message).toContain('does not support video');
    const sampleRate = await errorOf(
      svc.client.send(
        new CreatePresetCommand({
          Name: 'bad',
          Container: 'mp3',
          Audio: { Codec: 'mp3', SampleRate: '12345', BitRate: '128', Channels: '2' },
        }),
      ),
    );
    expect(sampleRate.message).toContain("at 'audio.sampleRate'");
  });
});

describe('signatures and protocol errors', () => {
  it('refuses a request signed with a wrong secret with 403 AccessDeniedException', async () => {
    const bad = svc.clientWith('not-the-secret');
    const err = await errorOf(bad.send(new ListPresetsCommand({})));
    bad.destroy();
    expect(err.name).toBe('AccessDeniedException');
    expect(err.$metadata?.httpStatusCode).toBe(403);
  });

  it('refuses an unsigned request', async () => {
    const res = await fetch(`${svc.url}/2012-09-25/presets`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('refuses a body that does not match its signature', async () => {
    const url = new URL(`${svc.url}/2012-09-25/pipelines`);
    const signer = new SignatureV4({
      service: 'elastictranscoder',
      region: 'us-east-1',
      sha256: Sha256,
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    });
    const body = JSON.stringify({ Name: 'a', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    });
    const res = await fetch(url, { method: 'POST', headers: signed.headers, body: body.replace('"a"', '"b"') });
    expect(res.status).toBe(403);
  });

  it('answers malformed JSON with ValidationException', async () => {
    const res = await signedFetch('POST', '/2012-09-25/pipelines', '{"Name": "x",');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(((await res.json()) as { message: string }).message).toContain('not valid JSON');
  });

  it('answers a wrongly typed member with ValidationException naming it', async () => {
    const res = await signedFetch(
      'POST',
      '/2012-09-25/pipelines',
      JSON.stringify({ Name: 42, InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe(
      "1 validation error detected: Value '42' at 'name' failed to satisfy constraint: Member must be of type string",
    );
  });
});
