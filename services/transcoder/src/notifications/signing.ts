import { createSigningIdentity, type SigningIdentity } from '@mp/sns';
import type { TranscoderConfig } from '../config';
import type { SigningIdentityRepository } from '../deliveries.repository';

export const SIGNING_CERT_PATH = '/sns-signing-cert.pem';

/**
 * The key direct deliveries are signed with: from the environment, else the one stored in Postgres, else a
 * new one stored there, so that every replica signs with the same identity.
 */
export async function loadSigningIdentity(
  config: TranscoderConfig,
  repo: SigningIdentityRepository,
): Promise<SigningIdentity> {
  if (config.ET_SIGNING_KEY_PEM && config.ET_SIGNING_CERT_PEM) {
    return { privateKeyPem: config.ET_SIGNING_KEY_PEM, certificatePem: config.ET_SIGNING_CERT_PEM };
  }
  const stored = await repo.get();
  if (stored) return stored;
  const host = new URL(config.ET_PUBLIC_URL).hostname;
  return repo.putIfAbsent(await createSigningIdentity({ commonName: host }));
}
