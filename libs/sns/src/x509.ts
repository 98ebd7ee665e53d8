import { createHash, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

// Just enough ASN.1 DER (ITU-T X.690) to write one self-signed X.509 v3 certificate (RFC 5280, section 4.1).

export function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
export const explicit = (tagNumber: number, inner: Buffer): Buffer => tlv(0xa0 | tagNumber, inner);
export const derNull = (): Buffer => Buffer.from([0x05, 0x00]);
export const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
export const octetString = (bytes: Buffer): Buffer => tlv(0x04, bytes);
export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));

/** A BIT STRING of whole bytes (no unused bits). */
export const bitString = (bytes: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));

/** A non-negative INTEGER from its big-endian magnitude: minimal length, a 0x00 pad if the top bit is set. */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let bytes = magnitude.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  const [first, second, ...rest] = arcs as [number, number, ...number[]];
  for (const arc of [first * 40 + second, ...rest]) {
    const base128: number[] = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) base128.unshift(0x80 | (n % 128));
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise, always whole seconds in Z (RFC 5280, 4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(digits.slice(2), 'ascii'));
  return tlv(0x18, Buffer.from(digits, 'ascii'));
}

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
};

const name = (commonName: string): Buffer =>
  sequence(set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));

const extension = (oid: string, critical: boolean, value: Buffer): Buffer =>
  sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));

// keyUsage bits 0 (digitalSignature) and 5 (keyCertSign): one byte 1000_0100, the two low bits unused.
const KEY_USAGE_SIGN_AND_CERT_SIGN = tlv(0x03, Buffer.from([0x02, 0x84]));

export interface SelfSignedCertificateOptions {
  commonName: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** Positive big-endian serial number; 16 random bytes if absent. */
  serialNumber?: Buffer;
}

/**
 * A self-signed RSA certificate (sha256WithRSAEncryption), its own CA so that OpenSSL accepts it as its
 * own issuer. Returns the DER bytes.
 */
export function createSelfSignedCertificateDer(options: SelfSignedCertificateOptions): Buffer {
  const { commonName, publicKey, privateKey, notBefore, notAfter } = options;
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error('only RSA keys are supported');
  if (commonName.length < 1 || commonName.length > 64) throw new Error('commonName must be 1 to 64 characters');
  if (!(notBefore.getTime() < notAfter.getTime())) throw new Error('notBefore must be before notAfter');
  const serial = unsignedInteger(options.serialNumber ?? randomSerial());
  // RFC 5280 4.1.2.2: positive, at most 20 octets once encoded.
  if (serial.length > 22 || serial.equals(unsignedInteger(Buffer.alloc(1)))) {
    throw new Error('serialNumber must be positive and at most 20 octets encoded');
  }

  const algorithm = sequence(objectIdentifier(OID.sha256WithRSAEncryption), derNull());
  // RFC 5280 4.2.1.2, method 1: SHA-1 of the subjectPublicKey bits, which for RSA are the PKCS#1 key.
  const keyId = createHash('sha1')
    .update(publicKey.export({ type: 'pkcs1', format: 'der' }))
    .digest();
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    serial,
    algorithm,
    name(commonName),
    sequence(time(notBefore), time(notAfter)),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      sequence(
        extension(OID.basicConstraints, true, sequence(boolean(true))),
        extension(OID.keyUsage, true, KEY_USAGE_SIGN_AND_CERT_SIGN),
        extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  return sequence(tbs, algorithm, bitString(signature));
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive and never all zeros
  return bytes;
}
