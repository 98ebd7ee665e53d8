import { beforeAll, describe, expect, it } from 'vitest';
import type { SnsEnvelope } from '@mp/contracts';
import { createCertificateCache } from './cert-cache';
import { signEnvelope } from './signature';
import type { SignatureVersion, UnsignedEnvelope } from './signature';
import { createSigningIdentity } from './signing-identity';
import type { SigningIdentity } from './signing-identity';
import { verifyEnvelope } from './verify-envelope';
import type { CertificateSource, VerifyEnvelopeOptions } from './verify-envelope';

const NOW = Date.parse('2026-11-21T12:00:00.000Z');
const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:transcoder-jobs';

const notification: UnsignedEnvelope = {
  Type: 'Notification',
  MessageId: '7a2b1c9e-0000-4000-8000-000000000001',
  TopicArn: TOPIC,
  Subject: 'Amazon Elastic Transcoder has finished transcoding job 1-abc.',
  Message: '{"state":"COMPLETED","jobId":"1-abc"}',
  Timestamp: new Date(NOW - 1_000).toISOString(),
};

const confirmation: UnsignedEnvelope = {
  Type: 'SubscriptionConfirmation',
  MessageId: '7a2b1c9e-0000-4000-8000-000000000002',
  Token: 'token-1',
  TopicArn: TOPIC,
  Message: 'You have chosen to subscribe to the topic.',
  SubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=token-1`,
  Timestamp: new Date(NOW - 1_000).toISOString(),
};

let identity: SigningIdentity;
let stranger: SigningIdentity;
beforeAll(async () => {
  [identity, stranger] = await Promise.all([
    createSigningIdentity({ commonName: 'sns.test' }),
    createSigningIdentity({ commonName: 'stranger' }),
  ]);
});

const sign = (unsigned: UnsignedEnvelope, signingCertUrl = CERT_URL, signatureVersion?: SignatureVersion) =>
  signEnvelope(unsigned, { privateKeyPem: identity.privateKeyPem, signingCertUrl, signatureVersion });

/** A pinned certificate that records which URLs were asked for. */
function pinned(pem = () => identity.certificatePem): CertificateSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get: async (url) => {
      asked.push(url);
      return pem();
    },
  };
}

const options = (patch: Partial<VerifyEnvelopeOptions> = {}): VerifyEnvelopeOptions => ({
  certificates: pinned(),
  now: () => NOW,
  ...patch,
});

describe('verifyEnvelope', () => {
  it.each<[string, UnsignedEnvelope, SignatureVersion]>([
    ['a Notification, v1', notification, '1'],
    ['a Notification, v2', notification, '2'],
    ['a SubscriptionConfirmation', confirmation, '2'],
    ['an UnsubscribeConfirmation', { ...confirmation, Type: 'UnsubscribeConfirmation' }, '1'],
  ])('accepts %s signed by the certificate at an AWS SigningCertURL', async (_name, unsigned, version) => {
    const certificates = pinned();
    const result = await verifyEnvelope(sign(unsigned, CERT_URL, version), options({ certificates }));
    expect(result).toEqual({ ok: true });
    expect(certificates.asked).toEqual([CERT_URL]);
  });

  it('accepts our own engine signing from an allow-listed http host', async () => {
    const url = 'http://transcoder:8080/sns/signing-cert.pem';
    const result = await verifyEnvelope(
      sign(notification, url),
      options({ allowedHosts: ['transcoder:8080'], requireHttps: false }),
    );
    expect(result).toEqual({ ok: true });
  });

  it('works end to end with the certificate cache', async () => {
    let fetches = 0;
    const certificates = createCertificateCache({
      fetch: async () => {
        fetches++;
        return new Response(identity.certificatePem);
      },
    });
    const opts = options({ certificates });
    expect(await verifyEnvelope(sign(notification), opts)).toEqual({ ok: true });
    expect(await verifyEnvelope(sign({ ...notification, MessageId: 'other' }), opts)).toEqual({ ok: true });
    expect(fetches).toBe(1);
  });

  it("fetches the certificate anew when the sender's key changed behind the same URL, and only then", async () => {
    let clock = NOW;
    let served = identity;
    let fetches = 0;
    const certificates = createCertificateCache({
      now: () => clock,
      minRefreshMs: 60_000,
      fetch: async () => {
        fetches++;
        return new Response(served.certificatePem);
      },
    });
    const opts = options({ certificates, now: () => clock });
    expect(await verifyEnvelope(sign(notification), opts)).toEqual({ ok: true });
    // The sender restarts with a new key at the same URL (LocalStack does).
    clock += 120_000;
    served = stranger;
    const bySender = signEnvelope(
      { ...notification, Timestamp: new Date(clock).toISOString() },
      { privateKeyPem: stranger.privateKeyPem, signingCertUrl: CERT_URL },
    );
    expect(await verifyEnvelope(bySender, opts)).toEqual({ ok: true });
    expect(fetches).toBe(2);
    // Forgeries right after: refused, and no more fetches.
    const forged = signEnvelope(
      { ...notification, Timestamp: new Date(clock).toISOString() },
      { privateKeyPem: identity.privateKeyPem, signingCertUrl: CERT_URL },
    );
    for (let i = 0; i < 5; i++)
      expect(await verifyEnvelope(forged, opts)).toMatchObject({ ok: false, code: 'SNS_BAD_SIGNATURE' });
    expect(fetches).toBe(2);
  });

  type Case = [string, () => SnsEnvelope, Partial<VerifyEnvelopeOptions>, string, RegExp];
  it.each<Case>([
    [
      'an unknown SignatureVersion',
      () => ({ ...sign(notification), SignatureVersion: '3' as SignatureVersion }),
      {},
      'SNS_BAD_SIGNATURE_VERSION',
      /SignatureVersion 3/,
    ],
    [
      'a topic outside the allow-list',
      () => sign(notification),
      { allowedTopicArns: ['arn:aws:sns:eu-west-1:123456789012:other'] },
      'SNS_TOPIC',
      /TopicArn/,
    ],
    [
      'a certificate on a foreign host',
      () => sign(notification, 'https://evil.example/SimpleNotificationService-x.pem'),
      {},
      'SNS_CERT_HOST',
      /evil\.example/,
    ],
    [
      'a certificate behind userinfo',
      () => sign(notification, 'https://sns.eu-west-1.amazonaws.com@evil.example/x.pem'),
      {},
      'SNS_CERT_HOST',
      /SigningCertURL/,
    ],
    [
      'a certificate URL that is no .pem',
      () => sign(notification, 'https://sns.eu-west-1.amazonaws.com/cert'),
      {},
      'SNS_CERT_HOST',
      /SigningCertURL/,
    ],
    [
      'LocalStack http certificate without configuration',
      () => sign(notification, 'http://localhost.localstack.cloud:4566/_aws/sns/SimpleNotificationService-x.pem'),
      {},
      'SNS_CERT_HOST',
      /SigningCertURL/,
    ],
    [
      'a SubscribeURL on a foreign host',
      () => sign({ ...confirmation, SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription' }),
      {},
      'SNS_SUBSCRIBE_URL_HOST',
      /evil\.example/,
    ],
    [
      'a confirmation without SubscribeURL',
      () => sign({ ...confirmation, SubscribeURL: undefined }),
      {},
      'SNS_SUBSCRIBE_URL_HOST',
      /SubscribeURL/,
    ],
    [
      'a Timestamp over an hour old',
      () => sign({ ...notification, Timestamp: new Date(NOW - 3_600_001).toISOString() }),
      {},
      'SNS_EXPIRED',
      /older than 3600000 ms/,
    ],
    [
      'a Timestamp older than a configured window',
      () => sign({ ...notification, Timestamp: new Date(NOW - 60_001).toISOString() }),
      { maxAgeMs: 60_000 },
      'SNS_EXPIRED',
      /older than 60000 ms/,
    ],
    [
      'a Timestamp over five minutes ahead',
      () => sign({ ...notification, Timestamp: new Date(NOW + 300_001).toISOString() }),
      {},
      'SNS_EXPIRED',
      /in the future/,
    ],
    [
      'a Timestamp that is no date',
      () => sign({ ...notification, Timestamp: 'yesterday' }),
      {},
      'SNS_MALFORMED',
      /Timestamp/,
    ],
    [
      'a certificate that cannot be fetched',
      () => sign(notification),
      { certificates: { get: () => Promise.reject(new Error('HTTP 404')) } },
      'SNS_CERT_FETCH',
      /HTTP 404/,
    ],
    [
      'a tampered Message',
      () => ({ ...sign(notification), Message: '{"state":"ERROR"}' }),
      {},
      'SNS_BAD_SIGNATURE',
      /signature/,
    ],
    ['a tampered Token', () => ({ ...sign(confirmation), Token: 'token-2' }), {}, 'SNS_BAD_SIGNATURE', /signature/],
    [
      'a signature by another key',
      () => sign(notification),
      { certificates: pinned(() => stranger.certificatePem) },
      'SNS_BAD_SIGNATURE',
      /signature/,
    ],
    [
      'garbage as the signature',
      () => ({ ...sign(notification), Signature: '%%%' }),
      {},
      'SNS_BAD_SIGNATURE',
      /signature/,
    ],
  ])('refuses %s', async (_name, envelope, patch, code, message) => {
    const result = await verifyEnvelope(envelope(), options(patch));
    expect(result).toMatchObject({ ok: false, code });
    expect(result.ok === false && result.message).toMatch(message);
  });

  it.each([
    ['exactly one hour old', NOW - 3_600_000],
    ['exactly five minutes ahead', NOW + 300_000],
  ])('accepts a Timestamp %s', async (_name, at) => {
    const result = await verifyEnvelope(sign({ ...notification, Timestamp: new Date(at).toISOString() }), options());
    expect(result).toEqual({ ok: true });
  });

  it('fetches no certificate for a message it can refuse without one', async () => {
    const certificates = pinned();
    const stale = sign({ ...notification, Timestamp: new Date(NOW - 7_200_000).toISOString() });
    const foreign = sign(notification, 'https://evil.example/x.pem');
    expect(await verifyEnvelope(stale, options({ certificates }))).toMatchObject({ code: 'SNS_EXPIRED' });
    expect(await verifyEnvelope(foreign, options({ certificates }))).toMatchObject({ code: 'SNS_CERT_HOST' });
    expect(certificates.asked).toEqual([]);
  });
});
