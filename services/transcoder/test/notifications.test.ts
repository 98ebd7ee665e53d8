import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateJobCommand, CreatePipelineCommand } from '@aws-sdk/client-elastic-transcoder';
import { EtSubject, SeedPresets, type EtNotification, type SnsEnvelope } from '@mp/contracts';
import { verifySignature } from '@mp/sns';
import {
  createTestEnv,
  eventually,
  startSnsSubscriber,
  type ReceivedDelivery,
  type SnsSubscriber,
  type TestEnv,
} from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import { ROLE, putObject, startApi, type RunningApi } from './support';

const topic = (name: string) => `arn:aws:sns:us-east-1:123456789012:${name}`;
const TOPICS = {
  Progressing: topic('et-progressing'),
  Completed: topic('et-completed'),
  Warning: '',
  Error: topic('et-error'),
};

/** An HTTP subscriber as a webhook would be: confirms subscriptions, and refuses the first notification once. */
function subscriber() {
  let refusedOnce = false;
  return startSnsSubscriber<SnsEnvelope>({
    confirmDelayMs: 50,
    answer(envelope) {
      if (envelope.Type !== 'Notification' || refusedOnce) return 200;
      refusedOnce = true;
      return 500;
    },
  });
}

let t: TestEnv;
let svc: RunningApi;
let worker: TranscoderWorker;
let sub: SnsSubscriber<SnsEnvelope>;
let subUrl: string;
let pipelineId: string;
let tmp: string;

beforeAll(async () => {
  t = await createTestEnv();
  sub = await subscriber();
  subUrl = sub.url;
  const subscriptions = { [TOPICS.Progressing]: [subUrl], [TOPICS.Completed]: [subUrl], [TOPICS.Error]: [subUrl] };
  svc = await startApi(t, { ET_DELIVERY_SUBSCRIPTIONS: JSON.stringify(subscriptions) });
  worker = await startWorker(svc.config);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'et-notify-'));
  await generateMedia('mp4', path.join(tmp, 'clip.mp4'), { seconds: 6, width: 640, height: 360 });
  await putObject(t, 'in/clip.mp4', await readFile(path.join(tmp, 'clip.mp4')));
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({
      Name: 'notifying',
      InputBucket: t.bucket,
      OutputBucket: t.bucket,
      Role: ROLE,
      Notifications: TOPICS,
    }),
  );
  pipelineId = Pipeline!.Id!;
});
afterAll(async () => {
  await worker?.close();
  await svc?.close();
  await sub?.close();
  await t?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const notificationsOf = (jobId: string) =>
  sub.received.filter(
    (r) => r.envelope.Type === 'Notification' && (JSON.parse(r.envelope.Message) as EtNotification).jobId === jobId,
  );

/** Accepted deliveries, one per MessageId. */
function delivered(jobId: string) {
  const byId = new Map<string, ReceivedDelivery<SnsEnvelope>>();
  for (const r of notificationsOf(jobId)) if (r.answered === 200) byId.set(r.envelope.MessageId, r);
  return [...byId.values()];
}

describe('direct HTTP delivery in the SNS envelope', () => {
  it('confirms each subscription first, then delivers signed PROGRESSING and COMPLETED messages, retrying with the same MessageId', async () => {
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'in/clip.mp4' },
        OutputKeyPrefix: 'out/',
        Outputs: [
          { Key: 'clip.mp4', PresetId: '1351620000001-000010' },
          { Key: 'clip.wav', PresetId: SeedPresets.wav },
        ],
        UserMetadata: { mediaId: 'abc' },
      }),
    );
    const jobId = Job!.Id!;
    const completed = await eventually(
      async () =>
        delivered(jobId).find((r) => (JSON.parse(r.envelope.Message) as EtNotification).state === 'COMPLETED'),
      { timeoutMs: 90_000, intervalMs: 200 },
    );

    // SubscriptionConfirmation came first, for the topic, with a SubscribeURL on this server.
    const firstConfirm = sub.received.findIndex(
      (r) => r.envelope.Type === 'SubscriptionConfirmation' && r.envelope.TopicArn === TOPICS.Progressing,
    );
    const firstProgress = sub.received.findIndex(
      (r) => r.envelope.Type === 'Notification' && r.envelope.TopicArn === TOPICS.Progressing,
    );
    expect(firstConfirm).toBeGreaterThanOrEqual(0);
    expect(firstConfirm).toBeLessThan(firstProgress);
    const confirmation = sub.received[firstConfirm]!.envelope;
    expect(confirmation.SubscribeURL).toContain(`${svc.url}/sns?Action=ConfirmSubscription`);
    expect(confirmation.Token).toMatch(/^[0-9a-f]{128}$/);

    // Every envelope is signed (SignatureVersion 2) by the key whose certificate the server serves.
    const certUrl = completed.envelope.SigningCertURL;
    expect(certUrl).toBe(`${svc.url}/sns-signing-cert.pem`);
    const cert = await (await fetch(certUrl)).text();
    for (const r of sub.received) {
      expect(r.envelope.SignatureVersion).toBe('2');
      expect(verifySignature(r.envelope, cert)).toBe(true);
    }

    const messages = delivered(jobId).map((r) => ({ r, m: JSON.parse(r.envelope.Message) as EtNotification }));
    const start = messages.find(({ m }) => m.state === 'PROGRESSING' && m.progress === undefined)!;
    expect(start.r.envelope.Subject).toBe(EtSubject.PROGRESSING(jobId));
    expect(start.r.envelope.TopicArn).toBe(TOPICS.Progressing);
    expect(start.m).toMatchObject({
      state: 'PROGRESSING',
      version: '2012-09-25',
      jobId,
      pipelineId,
      input: { key: 'in/clip.mp4' },
      inputCount: 1,
      outputKeyPrefix: 'out/',
      userMetadata: { mediaId: 'abc' },
    });
    expect(start.m.outputs!.map((o) => o.status)).toEqual(['Progressing', 'Progressing']);

    const done = messages.filter(({ m }) => m.state === 'COMPLETED');
    expect(done).toHaveLength(1);
    expect(done[0]!.r.envelope.Subject).toBe(EtSubject.COMPLETED(jobId));
    expect(done[0]!.m.outputs).toEqual([
      expect.objectContaining({
        id: '1',
        presetId: '1351620000001-000010',
        key: 'clip.mp4',
        status: 'Complete',
        duration: 6,
        width: 640,
        height: 360,
      }),
      expect.objectContaining({ id: '2', presetId: SeedPresets.wav, key: 'clip.wav', status: 'Complete', duration: 6 }),
    ]);
    expect(done[0]!.r.envelope.Message).toContain('"state" : "COMPLETED"');
    expect(done[0]!.r.headers).toMatchObject({
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': done[0]!.r.envelope.MessageId,
      'x-amz-sns-topic-arn': TOPICS.Completed,
      'user-agent': 'Amazon Simple Notification Service Agent',
    });

    // The refused delivery came back with the same MessageId and the same signed content.
    const refused = sub.received.find((r) => r.answered === 500)!;
    const retried = sub.received.filter(
      (r) => r.envelope.MessageId === refused.envelope.MessageId && r.answered === 200,
    );
    expect(retried).toHaveLength(1);
    expect(retried[0]!.envelope.Signature).toBe(refused.envelope.Signature);

    // Progress updates (extension): PROGRESSING with `progress`, at most one every 2 s per job.
    const progress = messages.filter(({ m }) => m.state === 'PROGRESSING' && typeof m.progress === 'number');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const { m } of progress) expect(m.progress).toBeGreaterThanOrEqual(0);
    const times = progress.map(({ r }) => Date.parse(r.envelope.Timestamp)).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1900);
  });

  it('publishes ERROR with the job-level errorCode and messageDetails when the input is missing', async () => {
    const { Job } = await svc.client.send(
      new CreateJobCommand({
        PipelineId: pipelineId,
        Input: { Key: 'in/absent.mp4' },
        Outputs: [{ Key: 'absent.wav', PresetId: SeedPresets.wav }],
      }),
    );
    const jobId = Job!.Id!;
    const error = await eventually(async () => delivered(jobId).find((r) => r.envelope.TopicArn === TOPICS.Error), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(error.envelope.Subject).toBe(EtSubject.ERROR(jobId));
    const m = JSON.parse(error.envelope.Message) as EtNotification;
    expect(m).toMatchObject({ state: 'ERROR', errorCode: 3001, jobId });
    expect(m.messageDetails).toMatch(
      /^3001 [0-9a-f-]{36}: The specified object does not exist in the specified S3 bucket: bucket=.*, key=in\/absent\.mp4\.$/,
    );
    expect(m.outputs![0]).toMatchObject({ status: 'Error', errorCode: 3001 });
  });
});
