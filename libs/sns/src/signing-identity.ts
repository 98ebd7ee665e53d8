import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { createSelfSignedCertificateDer, toPem } from './x509';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface SigningIdentity {
  /** PKCS#8 PEM of the RSA 2048 private key. */
  privateKeyPem: string;
  /** Self-signed X.509 certificate PEM, the file to serve at SigningCertURL. */
  certificatePem: string;
}

export interface SigningIdentityOptions {
  commonName: string;
  /** Default 365, as LocalStack's SNS certificate. */
  validDays?: number;
  now?: Date;
}

const DAY_MS = 86_400_000;

/** A fresh RSA 2048 key and a self-signed certificate for it, to sign SNS envelopes we deliver ourselves. */
export async function createSigningIdentity(options: SigningIdentityOptions): Promise<SigningIdentity> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const now = options.now ?? new Date();
  // Backdated a little so a receiver whose clock runs behind still sees a valid certificate.
  const notBefore = new Date(now.getTime() - 5 * 60_000);
  const notAfter = new Date(now.getTime() + (options.validDays ?? 365) * DAY_MS);
  const der = createSelfSignedCertificateDer({
    commonName: options.commonName,
    publicKey,
    privateKey,
    notBefore,
    notAfter,
  });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    certificatePem: toPem(der),
  };
}
