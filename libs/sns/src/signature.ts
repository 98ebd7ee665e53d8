import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { SnsEnvelope } from '@mp/contracts';
import { stringToSign } from './string-to-sign';

export type SignatureVersion = SnsEnvelope['SignatureVersion'];

/** Anything a signing certificate can be given as: its PEM, a parsed certificate, or its public key. */
export type CertificateInput = string | X509Certificate | KeyObject;

/** An envelope before SNS adds its signature fields. */
export type UnsignedEnvelope = Omit<SnsEnvelope, 'SignatureVersion' | 'Signature' | 'SigningCertURL'>;

export interface SignOptions {
  privateKeyPem: string | KeyObject;
  signingCertUrl: string;
  /** '1' = SHA1withRSA, '2' = SHA256withRSA. */
  signatureVersion?: SignatureVersion;
}

const DIGEST: Record<SignatureVersion, string> = { '1': 'sha1', '2': 'sha256' };

// Canonical base64 only: Buffer.from(…, 'base64') would silently skip garbage characters.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Checks an envelope's RSA signature against the signing certificate. False on any bad input; never throws. */
export function verifySignature(envelope: SnsEnvelope, cert: CertificateInput): boolean {
  const digest = Object.hasOwn(DIGEST, envelope.SignatureVersion) ? DIGEST[envelope.SignatureVersion] : undefined;
  if (!digest || typeof envelope.Signature !== 'string' || envelope.Signature === '') return false;
  if (!BASE64.test(envelope.Signature)) return false;
  try {
    const key = typeof cert === 'string' ? createPublicKey(cert) : 'publicKey' in cert ? cert.publicKey : cert;
    if (key.asymmetricKeyType !== 'rsa') return false;
    const data = Buffer.from(stringToSign(envelope), 'utf8');
    return verify(digest, data, key, Buffer.from(envelope.Signature, 'base64'));
  } catch {
    return false;
  }
}

/** Signs an envelope as SNS does; SignatureVersion 2 (SHA256withRSA) unless told otherwise. */
export function signEnvelope(unsigned: UnsignedEnvelope, options: SignOptions): SnsEnvelope {
  const signatureVersion = options.signatureVersion ?? '2';
  const key =
    typeof options.privateKeyPem === 'string' ? createPrivateKey(options.privateKeyPem) : options.privateKeyPem;
  const signature = sign(DIGEST[signatureVersion], Buffer.from(stringToSign(unsigned), 'utf8'), key);
  // Same key order as SNS's own JSON, so a delivered body reads like the real thing.
  return dropUndefined({
    Type: unsigned.Type,
    MessageId: unsigned.MessageId,
    Token: unsigned.Token,
    TopicArn: unsigned.TopicArn,
    Subject: unsigned.Subject,
    Message: unsigned.Message,
    SubscribeURL: unsigned.SubscribeURL,
    Timestamp: unsigned.Timestamp,
    SignatureVersion: signatureVersion,
    Signature: signature.toString('base64'),
    SigningCertURL: options.signingCertUrl,
    UnsubscribeURL: unsigned.UnsubscribeURL,
    MessageAttributes: unsigned.MessageAttributes,
  });
}

function dropUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
