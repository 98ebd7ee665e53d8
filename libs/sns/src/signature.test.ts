import { X509Certificate, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SnsEnvelope } from '@mp/contracts';
import { signEnvelope, verifySignature } from './signature';
import type { SignatureVersion, UnsignedEnvelope } from './signature';
import { createSigningIdentity } from './signing-identity';
import type { SigningIdentity } from './signing-identity';

const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';

const notification: UnsignedEnvelope = {
  Type: 'Notification',
  MessageId: 'e8b8c107-a693-5ef4-a815-8ec2056b573f',
  TopicArn: 'arn:aws:sns:us-west-2:784245509715:video_uploads_elastictranscoder',
  Subject: 'Amazon Elastic Transcoder has finished transcoding job 1464574390308-dd3t38.',
  Message: '{\n  "state" : "COMPLETED",\n  "version" : "2012-09-25"\n}',
  Timestamp: '2016-05-30T02:13:12.258Z',
  UnsubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x',
};

const confirmation: UnsignedEnvelope = {
  Type: 'SubscriptionConfirmation',
  MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
  Token: '2336412f37fb687f5d51e6e241d09c80',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Message: 'You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.',
  SubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37',
  Timestamp: '2012-04-26T20:45:04.751Z',
};

let identity: SigningIdentity;
let other: SigningIdentity;
beforeAll(async () => {
  [identity, other] = await Promise.all([
    createSigningIdentity({ commonName: 'sns.test' }),
    createSigningIdentity({ commonName: 'sns.other' }),
  ]);
});

const sign = (unsigned: UnsignedEnvelope, signatureVersion?: SignatureVersion): SnsEnvelope =>
  signEnvelope(unsigned, { privateKeyPem: identity.privateKeyPem, signingCertUrl: CERT_URL, signatureVersion });

describe('signEnvelope + verifySignature', () => {
  it.each<SignatureVersion>(['1', '2'])('round-trips SignatureVersion %s for every message type', (version) => {
    for (const unsigned of [
      notification,
      confirmation,
      { ...confirmation, Type: 'UnsubscribeConfirmation' as const },
    ]) {
      const signed = sign(unsigned, version);
      expect(signed.SignatureVersion).toBe(version);
      expect(verifySignature(signed, identity.certificatePem)).toBe(true);
    }
  });

  it('signs with SignatureVersion 2 by default and sets SigningCertURL', () => {
    const signed = sign(notification);
    expect(signed).toMatchObject({ SignatureVersion: '2', SigningCertURL: CERT_URL });
    expect(Buffer.from(signed.Signature, 'base64')).toHaveLength(256);
  });

  it('writes the keys in the order SNS does and leaves absent ones out', () => {
    expect(Object.keys(sign(notification))).toEqual([
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
      'UnsubscribeURL',
    ]);
    expect(Object.keys(sign(confirmation))).toEqual([
      'Type',
      'MessageId',
      'Token',
      'TopicArn',
      'Message',
      'SubscribeURL',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
    ]);
  });

  it('signs exactly the AWS canonical string, so AWS-side verifiers agree', () => {
    const signed = sign(notification, '1');
    const canonical =
      `Message\n${notification.Message}\nMessageId\n${notification.MessageId}\nSubject\n${notification.Subject}\n` +
      `Timestamp\n${notification.Timestamp}\nTopicArn\n${notification.TopicArn}\nType\nNotification\n`;
    const signature = Buffer.from(signed.Signature, 'base64');
    expect(verify('RSA-SHA1', Buffer.from(canonical), identity.certificatePem, signature)).toBe(true);
  });

  it('binds the digest to SignatureVersion: relabelling a signature fails', () => {
    expect(verifySignature({ ...sign(notification, '2'), SignatureVersion: '1' }, identity.certificatePem)).toBe(false);
    expect(verifySignature({ ...sign(notification, '1'), SignatureVersion: '2' }, identity.certificatePem)).toBe(false);
  });

  it('accepts the certificate as PEM, X509Certificate or public KeyObject', () => {
    const signed = sign(notification);
    const cert = new X509Certificate(identity.certificatePem);
    expect(verifySignature(signed, cert)).toBe(true);
    expect(verifySignature(signed, cert.publicKey)).toBe(true);
    expect(verifySignature(signed, createPublicKey(identity.certificatePem))).toBe(true);
  });
});

describe('verifySignature refuses tampering', () => {
  const tamper = (value: string) => `${value}x`;

  it.each<[keyof UnsignedEnvelope, SignatureVersion]>([
    ['Message', '1'],
    ['MessageId', '1'],
    ['Subject', '1'],
    ['Timestamp', '1'],
    ['TopicArn', '1'],
    ['Message', '2'],
    ['MessageId', '2'],
    ['Subject', '2'],
    ['Timestamp', '2'],
    ['TopicArn', '2'],
  ])('Notification: changed %s (v%s)', (field, version) => {
    const signed = sign(notification, version);
    expect(verifySignature({ ...signed, [field]: tamper(String(signed[field])) }, identity.certificatePem)).toBe(false);
  });

  it.each<[keyof UnsignedEnvelope, SignatureVersion]>([
    ['Message', '1'],
    ['MessageId', '1'],
    ['SubscribeURL', '1'],
    ['Timestamp', '1'],
    ['Token', '1'],
    ['TopicArn', '1'],
    ['Message', '2'],
    ['MessageId', '2'],
    ['SubscribeURL', '2'],
    ['Timestamp', '2'],
    ['Token', '2'],
    ['TopicArn', '2'],
  ])('SubscriptionConfirmation: changed %s (v%s)', (field, version) => {
    const signed = sign(confirmation, version);
    expect(verifySignature({ ...signed, [field]: tamper(String(signed[field])) }, identity.certificatePem)).toBe(false);
  });

  it('Type: a confirmation relabelled Unsubscribe, a notification relabelled confirmation', () => {
    const signedConfirmation = sign(confirmation);
    const relabelled = { ...signedConfirmation, Type: 'UnsubscribeConfirmation' as const };
    expect(verifySignature(relabelled, identity.certificatePem)).toBe(false);
    const signedNotification = sign({ ...notification, Token: 't', SubscribeURL: 'https://s' });
    const asConfirmation = { ...signedNotification, Type: 'SubscriptionConfirmation' as const };
    expect(verifySignature(asConfirmation, identity.certificatePem)).toBe(false);
  });

  it('a Subject removed from, or added to, a Notification', () => {
    const withSubject = sign(notification);
    expect(verifySignature({ ...withSubject, Subject: undefined }, identity.certificatePem)).toBe(false);
    const withoutSubject = sign({ ...notification, Subject: undefined });
    expect(verifySignature({ ...withoutSubject, Subject: '' }, identity.certificatePem)).toBe(false);
  });

  it('a flipped bit in the signature', () => {
    const signed = sign(notification);
    const bytes = Buffer.from(signed.Signature, 'base64');
    bytes[100]! ^= 0x01;
    expect(verifySignature({ ...signed, Signature: bytes.toString('base64') }, identity.certificatePem)).toBe(false);
  });

  it('still accepts changes to the fields SNS does not sign', () => {
    const signed = sign(notification);
    const changed = {
      ...signed,
      UnsubscribeURL: 'https://elsewhere.example/',
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem',
      MessageAttributes: { a: { Type: 'String', Value: 'b' } },
    };
    expect(verifySignature(changed, identity.certificatePem)).toBe(true);
  });
});

describe('verifySignature on bad input returns false and never throws', () => {
  it('with the wrong certificate', () => {
    expect(verifySignature(sign(notification, '1'), other.certificatePem)).toBe(false);
    expect(verifySignature(sign(notification, '2'), other.certificatePem)).toBe(false);
  });

  it.each<[string, Partial<SnsEnvelope>]>([
    ['non-base64 characters', { Signature: 'not*base64!' }],
    ['base64 with junk appended', { Signature: 'AAAA$' }],
    ['an empty signature', { Signature: '' }],
    ['a truncated signature', { Signature: 'AAAA' }],
    ['a missing signature', { Signature: undefined as unknown as string }],
    ['an unknown SignatureVersion', { SignatureVersion: '3' as SignatureVersion }],
    ['a prototype key as SignatureVersion', { SignatureVersion: 'toString' as SignatureVersion }],
  ])('%s', (_name, patch) => {
    expect(verifySignature({ ...sign(notification), ...patch }, identity.certificatePem)).toBe(false);
  });

  it.each([
    ['garbage text', 'not a pem'],
    ['an empty string', ''],
    ['a truncated PEM', '-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIQ\n-----END CERTIFICATE-----\n'],
  ])('a certificate that is %s', (_name, pem) => {
    expect(verifySignature(sign(notification), pem)).toBe(false);
  });

  it('a certificate with a non-RSA key', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(verifySignature(sign(notification), publicKey)).toBe(false);
  });
});
