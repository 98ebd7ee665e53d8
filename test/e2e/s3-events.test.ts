import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from '@mp/contracts';
import { signEnvelope } from '@mp/sns';
import { createS3Client } from '@mp/storage';
import { generateMedia } from '@mp/testbed/media';
import { createUser, getMedia, listen, target, type Listener } from './client';

// A direct-to-S3 upload announced by an S3 event through SNS, as the original system's Lambda trigger was;
// and the guard against the trigger's classic loop: outputs never start a transcode.
const local = target().local;
let user: { id: string; token: string };
let ears: Listener;

beforeAll(async () => {
  user = await createUser('dana');
  ears = await listen(user.token);
});
afterAll(() => ears?.close());

/** The seed's Lambda test event, with a real bucket and key (URL-encoded, `+` for spaces). */
function s3Event(key: string, size: number): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.0',
        eventTime: new Date().toISOString(),
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: 'media', arn: 'arn:aws:s3:::media' },
          object: {
            key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'),
            size,
            eTag: 'eTag',
            sequencer: 'sequencer',
          },
        },
      },
    ],
  };
}

async function deliver(event: S3Event): Promise<{ status: number; body: unknown }> {
  const envelope = signEnvelope(
    {
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: local!.topicArn,
      Subject: 'Amazon S3 Notification',
      Message: JSON.stringify(event),
      Timestamp: new Date().toISOString(),
      UnsubscribeURL: `${local!.signer.certUrl}?unsubscribe`,
    },
    { privateKeyPem: local!.signer.privateKeyPem, signingCertUrl: local!.signer.certUrl },
  );
  const res = await fetch(`${local!.snsIngest}/sns`, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-topic-arn': local!.topicArn,
    },
    body: JSON.stringify(envelope),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function mediaCount(): Promise<number> {
  const res = await fetch(`${target().gateway}/v1/media?limit=100`, {
    headers: { authorization: `Bearer ${user.token}` },
  });
  return ((await res.json()) as { items: unknown[] }).items.length;
}

it.skipIf(!local)(
  'an object uploaded straight to S3 is transcoded; its outputs never start another transcode',
  async () => {
    const s3 = createS3Client({
      endpoint: local!.s3,
      region: 'us-east-1',
      forcePathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    const bytes = await readFile(
      await generateMedia('mp3', path.join(await mkdtemp(path.join(tmpdir(), 'e2e-s3-')), 'x.mp3'), { seconds: 2 }),
    );
    const mediaId = randomUUID();
    const key = `media/${user.id}/${mediaId}/field recording.mp3`;
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: bytes, ContentType: 'audio/mpeg' }));

    expect((await deliver(s3Event(key, bytes.length))).status).toBe(200);
    const n = await ears.waitFor((x) => x.mediaId === mediaId);
    expect(n).toMatchObject({ kind: 'media.complete', text: 'Your file field recording.mp3 has been processed' });
    const media = await getMedia(user.token, mediaId);
    expect(media.outputs.map((o) => o.format).sort()).toEqual(['flac', 'm4a', 'wav']);
    expect(await mediaCount()).toBe(1);

    // The outputs land under transcoded/: events for them are acknowledged and ignored.
    for (const name of ['field recording.wav', 'field recording.flac', 'field recording.m4a']) {
      const res = await deliver(s3Event(`transcoded/${user.id}/${mediaId}/${name}`, 100));
      expect(res.status).toBe(200);
    }
    // The same upload event again (a redelivery with a new MessageId) finds the media: no second transcode.
    expect((await deliver(s3Event(key, bytes.length))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await mediaCount()).toBe(1);
    expect(ears.notifications.filter((x) => x.mediaId === mediaId)).toHaveLength(1);
    expect((await getMedia(user.token, mediaId)).status).toBe('complete');
    s3.destroy();
  },
);
