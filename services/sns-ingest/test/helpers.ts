import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { SnsEnvelope, SnsType } from '@mp/contracts';
import { createDb, MediaRepository, UsersRepository, type DbHandle, type NewMedia } from '@mp/db';
import { createSigningIdentity, signEnvelope, type SignatureVersion, type SigningIdentity } from '@mp/sns';
import type { TestEnv } from '@mp/testbed';
import { configSchema } from '../src/config';
import { buildSnsIngest, type SnsIngest } from '../src/server';

export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:transcoder-events';

/**
 * Plays AWS's side: serves the signing certificate and the SubscribeURL on 127.0.0.1, counting the
 * confirmation GETs, and signs envelopes with the matching key.
 */
export interface FakeSns {
  host: string;
  certUrl: string;
  subscribeUrl(token: string): string;
  confirmations: string[];
  certFetches: number;
  identity: SigningIdentity;
  sign(type: SnsType, message: string, opts?: SignOpts): SnsEnvelope;
  close(): Promise<void>;
}

export interface SignOpts {
  messageId?: string;
  topicArn?: string;
  subject?: string;
  timestamp?: Date;
  version?: SignatureVersion;
  certUrl?: string;
  subscribeUrl?: string;
}

export async function startFakeSns(): Promise<FakeSns> {
  const identity = await createSigningIdentity({ commonName: 'sns.test' });
  const state = { confirmations: [] as string[], certFetches: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/SimpleNotificationService-test.pem') {
      state.certFetches += 1;
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(identity.certificatePem);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.get('Action') === 'ConfirmSubscription') {
      state.confirmations.push(url.searchParams.get('Token') ?? '');
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const host = `127.0.0.1:${port}`;
  const certUrl = `http://${host}/SimpleNotificationService-test.pem`;
  const subscribeUrl = (token: string) =>
    `http://${host}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=${token}`;

  return {
    host,
    certUrl,
    subscribeUrl,
    get confirmations() {
      return state.confirmations;
    },
    get certFetches() {
      return state.certFetches;
    },
    identity,
    sign(type, message, opts = {}) {
      const confirmation = type !== 'Notification';
      const token = randomBytes(16).toString('hex');
      return signEnvelope(
        {
          Type: type,
          MessageId: opts.messageId ?? randomUUID(),
          TopicArn: opts.topicArn ?? TOPIC,
          Subject: opts.subject,
          Message: message,
          Timestamp: (opts.timestamp ?? new Date()).toISOString(),
          ...(confirmation ? { Token: token, SubscribeURL: opts.subscribeUrl ?? subscribeUrl(token) } : {}),
          UnsubscribeURL: confirmation ? undefined : `http://${host}/?Action=Unsubscribe`,
        },
        {
          privateKeyPem: identity.privateKeyPem,
          signingCertUrl: opts.certUrl ?? certUrl,
          signatureVersion: opts.version ?? '2',
        },
      );
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Running {
  svc: SnsIngest;
  url: string;
  close(): Promise<void>;
}

export async function startService(t: TestEnv, sns: FakeSns, overrides: Record<string, string> = {}): Promise<Running> {
  const cfg = configSchema.parse({
    ...t.env,
    SNS_ALLOWED_TOPIC_ARNS: TOPIC,
    SNS_ALLOWED_CERT_HOSTS: sns.host,
    SNS_REQUIRE_HTTPS: 'false',
    OUTBOX_SWEEP_INTERVAL_MS: '3600000',
    ...overrides,
  });
  const svc = await buildSnsIngest(cfg);
  await svc.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (svc.app.server.address() as net.AddressInfo).port;
  return { svc, url: `http://127.0.0.1:${port}`, close: () => svc.close() };
}

/** POSTs an envelope as SNS does: JSON in a text/plain body, with the x-amz-sns-* headers. */
export async function deliver(url: string, envelope: SnsEnvelope | string, headers: Record<string, string> = {}) {
  const body = typeof envelope === 'string' ? envelope : JSON.stringify(envelope);
  const snsHeaders: Record<string, string> =
    typeof envelope === 'string'
      ? {}
      : {
          'x-amz-sns-message-type': envelope.Type,
          'x-amz-sns-message-id': envelope.MessageId,
          'x-amz-sns-topic-arn': envelope.TopicArn,
        };
  const res = await fetch(`${url}/sns`, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
      ...snsHeaders,
      ...headers,
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Rows the dispatch worker would have written before starting an ET job. */
export async function seedMedia(dbh: DbHandle, formats: string[] = ['wav', 'flac', 'mp4']) {
  const user = await new UsersRepository(dbh.db).create(
    'listener',
    createHash('sha256').update(randomUUID()).digest('hex'),
  );
  const mediaId = randomUUID();
  const row: NewMedia = {
    id: mediaId,
    userId: user.id,
    name: 'song.mp3',
    kind: 'audio',
    contentType: 'audio/mpeg',
    size: 571258,
    s3Key: `media/${user.id}/${mediaId}/song.mp3`,
    status: 'queued',
    enqueuedAt: new Date(),
  };
  const repo = new MediaRepository(dbh.db);
  await repo.insert(row);
  const prefix = `transcoded/${user.id}/${mediaId}/`;
  await repo.recordOutputs(formats.map((format) => ({ mediaId, format, s3Key: `${prefix}song.${format}` })));
  return { userId: user.id, mediaId, prefix };
}

export { createDb };
