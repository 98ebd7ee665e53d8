import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateJobCommand, CreatePipelineCommand } from '@aws-sdk/client-elastic-transcoder';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { EtSubject, SeedPresets, type EtNotification, type SnsEnvelope } from '@mp/contracts';
import { createTestEnv, eventually, startSnsSubscriber, type SnsSubscriber, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import { ROLE, putObject, startApi, type RunningApi } from './support';

// Needs a real SNS: LocalStack when the test bed runs on containers, or SNS_TEST_ENDPOINT (with
// SNS_TEST_SUBSCRIBER_HOST, the address under which SNS reaches this machine).
const testbed = inject('testbed');
const snsEndpoint =
  process.env.SNS_TEST_ENDPOINT ?? (testbed.s3.kind === 'localstack' ? testbed.s3.endpoint : undefined);
const subscriberHost =
  process.env.SNS_TEST_SUBSCRIBER_HOST ?? (testbed.infra === 'containers' ? 'host.docker.internal' : '127.0.0.1');

describe.skipIf(!snsEndpoint)('SNS Publish through @aws-sdk/client-sns', () => {
  let t: TestEnv;
  let svc: RunningApi;
  let worker: TranscoderWorker;
  let sns: SNSClient;
  let subscriber: SnsSubscriber<SnsEnvelope>;
  let tmp: string;
  const received = () => subscriber.received.map((r) => r.envelope);

  beforeAll(async () => {
    t = await createTestEnv();
    // 0.0.0.0: LocalStack, in a container, delivers to it.
    subscriber = await startSnsSubscriber<SnsEnvelope>({ host: '0.0.0.0' });
    svc = await startApi(t, { SNS_ENDPOINT: snsEndpoint! });
    worker = await startWorker(svc.config);
    sns = new SNSClient({
      endpoint: snsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: t.s3.accessKeyId, secretAccessKey: t.s3.secretAccessKey },
    });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'et-sns-'));
    await generateMedia('mp3', path.join(tmp, 'a.mp3'), { seconds: 1 });
    await putObject(t, 'in/a.mp3', await readFile(path.join(tmp, 'a.mp3')));
  });
  afterAll(async () => {
    await worker?.close();
    await svc?.close();
    sns?.destroy();
    await subscriber?.close();
    await t?.cleanup();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('publishes COMPLETED with the service subject to the pipeline topic', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `et-completed-${Date.now()}` }));
    const { port } = subscriber;
    await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: `http://${subscriberHost}:${port}/sns` }),
    );
    await eventually(async () => received().some((e) => e.Type === 'SubscriptionConfirmation'), { timeoutMs: 20_000 });

    const { Pipeline } = await svc.client.send(
      new CreatePipelineCommand({
        Name: 'sns',
        InputBucket: t.bucket,
        OutputBucket: t.bucket,
        Role: ROLE,
        Notifications: { Completed: TopicArn },
      }),
    );
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: Pipeline!.Id,
        Input: { Key: 'in/a.mp3' },
        Outputs: [{ Key: 'sns/a.wav', PresetId: SeedPresets.wav }],
      }),
    );
    const note = await eventually(async () => received().find((e) => e.Type === 'Notification'), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(note.Subject).toBe(EtSubject.COMPLETED(Job!.Id!));
    expect(note.TopicArn).toBe(TopicArn);
    expect(JSON.parse(note.Message) as EtNotification).toMatchObject({
      state: 'COMPLETED',
      jobId: Job!.Id,
      version: '2012-09-25',
    });
  });
});
