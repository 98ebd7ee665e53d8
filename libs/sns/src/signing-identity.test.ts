import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signEnvelope, verifySignature } from './signature';
import { createSigningIdentity } from './signing-identity';

describe('createSigningIdentity', () => {
  it('makes an RSA 2048 key and a self-signed certificate that verifies SNS signatures', async () => {
    const now = new Date('2026-11-21T10:00:00.000Z');
    const identity = await createSigningIdentity({ commonName: 'transcoder.local', now, validDays: 30 });

    const key = createPrivateKey(identity.privateKeyPem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);

    const cert = new X509Certificate(identity.certificatePem);
    expect(cert.subject).toBe('CN=transcoder.local');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(cert.validFromDate.toISOString()).toBe('2026-11-21T09:55:00.000Z');
    expect(cert.validToDate.toISOString()).toBe('2026-12-21T10:00:00.000Z');

    const signed = signEnvelope(
      {
        Type: 'Notification',
        MessageId: 'm-1',
        TopicArn: 'arn:aws:sns:us-east-1:000000000000:jobs',
        Message: '{"state":"COMPLETED"}',
        Timestamp: now.toISOString(),
      },
      { privateKeyPem: identity.privateKeyPem, signingCertUrl: 'https://transcoder.local/sns.pem' },
    );
    expect(verifySignature(signed, identity.certificatePem)).toBe(true);
    expect(verifySignature(signed, cert.publicKey)).toBe(true);
  });

  it('makes a new key each time', async () => {
    const [a, b] = await Promise.all([
      createSigningIdentity({ commonName: 'a' }),
      createSigningIdentity({ commonName: 'a' }),
    ]);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
  });
});
