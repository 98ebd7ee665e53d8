import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bitString,
  boolean,
  createSelfSignedCertificateDer,
  derLength,
  derNull,
  objectIdentifier,
  sequence,
  time,
  toPem,
  unsignedInteger,
  utf8String,
} from './x509';

const hex = (buf: Buffer) => buf.toString('hex');

describe('DER encoding (X.690)', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8180'],
    [255, '81ff'],
    [256, '820100'],
    [65_535, '82ffff'],
    [65_536, '83010000'],
  ])('length %i is %s', (length, expected) => {
    expect(hex(derLength(length))).toBe(expected);
  });

  it.each([
    ['00', '020100'],
    ['0000', '020100'],
    ['7f', '02017f'],
    ['80', '02020080'],
    ['000080', '02020080'],
    ['0100', '02020100'],
  ])('unsigned INTEGER %s is %s', (magnitude, expected) => {
    expect(hex(unsignedInteger(Buffer.from(magnitude, 'hex')))).toBe(expected);
  });

  it.each([
    ['1.2.840.113549.1.1.11', '06092a864886f70d01010b'],
    ['2.5.4.3', '0603550403'],
    ['2.5.29.19', '0603551d13'],
    ['1.3.6.1.4.1.311.21.20', '06092b0601040182371514'],
  ])('OID %s is %s', (oid, expected) => {
    expect(hex(objectIdentifier(oid))).toBe(expected);
  });

  it('refuses a malformed OID', () => {
    expect(() => objectIdentifier('1')).toThrow(/bad OID/);
    expect(() => objectIdentifier('1.2.x')).toThrow(/bad OID/);
  });

  it.each([
    ['2026-11-21T10:17:05.999Z', '170d' + hex(Buffer.from('261121101705Z'))],
    ['1950-01-01T00:00:00.000Z', '170d' + hex(Buffer.from('500101000000Z'))],
    ['2049-12-31T23:59:59.000Z', '170d' + hex(Buffer.from('491231235959Z'))],
    ['2050-01-01T00:00:00.000Z', '180f' + hex(Buffer.from('20500101000000Z'))],
    ['1949-12-31T23:59:59.000Z', '180f' + hex(Buffer.from('19491231235959Z'))],
  ])('time %s: UTCTime until 2049, then GeneralizedTime', (iso, expected) => {
    expect(hex(time(new Date(iso)))).toBe(expected);
  });

  it('writes the other primitives', () => {
    expect(hex(derNull())).toBe('0500');
    expect(hex(boolean(true))).toBe('0101ff');
    expect(hex(boolean(false))).toBe('010100');
    expect(hex(utf8String('é'))).toBe('0c02c3a9');
    expect(hex(bitString(Buffer.from('abcd', 'hex')))).toBe('030300abcd');
    expect(hex(sequence(derNull(), derNull()))).toBe('300405000500');
    expect(hex(sequence(Buffer.alloc(200)))).toBe('3081c8' + '00'.repeat(200));
  });
});

describe('createSelfSignedCertificateDer', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2051-06-30T12:00:00Z');
  const der = createSelfSignedCertificateDer({
    commonName: 'Media Pipeline SNS',
    publicKey,
    privateKey,
    notBefore,
    notAfter,
    serialNumber: Buffer.from('8a0102030405060708090a0b0c0d0e0f', 'hex'),
  });
  const cert = new X509Certificate(der);

  it('is a certificate OpenSSL parses, with the fields asked for', () => {
    expect(cert.subject).toBe('CN=Media Pipeline SNS');
    expect(cert.issuer).toBe('CN=Media Pipeline SNS');
    expect(cert.serialNumber).toBe('8A0102030405060708090A0B0C0D0E0F');
    expect(cert.validFromDate.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(cert.validToDate.toISOString()).toBe('2051-06-30T12:00:00.000Z');
    expect(cert.ca).toBe(true);
    expect(cert.publicKey.equals(publicKey)).toBe(true);
  });

  it('is signed by its own key and is its own issuer', () => {
    expect(cert.verify(publicKey)).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.checkPrivateKey(privateKey)).toBe(true);
    const { publicKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(cert.verify(otherKey)).toBe(false);
  });

  it('round-trips through PEM with 64-character lines', () => {
    const pem = toPem(der);
    const lines = pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-1)).toBe('-----END CERTIFICATE-----');
    expect(lines.slice(1, -2).every((line) => line.length === 64)).toBe(true);
    expect(new X509Certificate(pem).raw.equals(der)).toBe(true);
  });

  it('draws a positive random serial number when none is given', () => {
    const a = new X509Certificate(
      createSelfSignedCertificateDer({ commonName: 'a', publicKey, privateKey, notBefore, notAfter }),
    );
    const b = new X509Certificate(
      createSelfSignedCertificateDer({ commonName: 'a', publicKey, privateKey, notBefore, notAfter }),
    );
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.serialNumber).toMatch(/^[0-9A-F]{32}$/);
  });

  it.each([
    ['a non-RSA key', { publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey }, /only RSA/],
    ['an empty common name', { commonName: '' }, /commonName/],
    ['a common name over 64 characters', { commonName: 'x'.repeat(65) }, /commonName/],
    ['notAfter before notBefore', { notAfter: new Date('2025-01-01T00:00:00Z') }, /notBefore/],
    ['a zero serial number', { serialNumber: Buffer.from([0]) }, /serialNumber/],
    ['a serial number over 20 octets', { serialNumber: Buffer.alloc(20, 0xff) }, /serialNumber/],
  ])('refuses %s', (_name, patch, error) => {
    const options = { commonName: 'ok', publicKey, privateKey, notBefore, notAfter, ...patch };
    expect(() => createSelfSignedCertificateDer(options)).toThrow(error);
  });
});
