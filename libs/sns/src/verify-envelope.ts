import type { SnsEnvelope } from '@mp/contracts';
import { certUrlAllowed, urlHostAllowed } from './cert-url';
import type { UrlPolicy } from './cert-url';
import { verifySignature } from './signature';
import type { CertificateInput } from './signature';

export type VerifyErrorCode =
  | 'SNS_MALFORMED'
  | 'SNS_BAD_SIGNATURE_VERSION'
  | 'SNS_TOPIC'
  | 'SNS_CERT_HOST'
  | 'SNS_SUBSCRIBE_URL_HOST'
  | 'SNS_EXPIRED'
  | 'SNS_CERT_FETCH'
  | 'SNS_BAD_SIGNATURE';

export type VerifyResult = { ok: true } | { ok: false; code: VerifyErrorCode; message: string };

/** Where signing certificates come from: a CertificateCache, or a pinned certificate in tests. */
export interface CertificateSource {
  get(url: string): Promise<CertificateInput>;
  /** When present: the certificate fetched anew after a signature failed with the one `get` gave. */
  refresh?(url: string): Promise<CertificateInput>;
}

export interface VerifyEnvelopeOptions extends UrlPolicy {
  certificates: CertificateSource;
  /** Oldest Timestamp accepted. Default one hour. */
  maxAgeMs?: number;
  /** How far in the future a Timestamp may be (clock skew). Default five minutes. */
  maxFutureMs?: number;
  /** If set, only these topics are accepted. */
  allowedTopicArns?: readonly string[];
  now?: () => number;
}

const SUPPORTED_VERSIONS: readonly string[] = ['1', '2'];

/**
 * Everything a receiver must check before trusting an envelope, cheapest first, so that a stale or
 * foreign message costs no certificate fetch.
 */
export async function verifyEnvelope(envelope: SnsEnvelope, options: VerifyEnvelopeOptions): Promise<VerifyResult> {
  if (!SUPPORTED_VERSIONS.includes(envelope.SignatureVersion)) {
    return fail('SNS_BAD_SIGNATURE_VERSION', `SignatureVersion ${String(envelope.SignatureVersion)} is not supported`);
  }
  if (options.allowedTopicArns && !options.allowedTopicArns.includes(envelope.TopicArn)) {
    return fail('SNS_TOPIC', `TopicArn ${envelope.TopicArn} is not accepted here`);
  }
  if (!certUrlAllowed(envelope.SigningCertURL, options)) {
    return fail('SNS_CERT_HOST', `SigningCertURL ${envelope.SigningCertURL} is not an allowed certificate URL`);
  }
  if (envelope.Type !== 'Notification' && !urlHostAllowed(envelope.SubscribeURL ?? '', options)) {
    return fail('SNS_SUBSCRIBE_URL_HOST', `SubscribeURL ${String(envelope.SubscribeURL)} is not on an allowed host`);
  }

  const stale = checkTimestamp(envelope.Timestamp, options);
  if (stale) return stale;

  let certificate: CertificateInput;
  try {
    certificate = await options.certificates.get(envelope.SigningCertURL);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return fail('SNS_CERT_FETCH', `could not get the signing certificate: ${reason}`);
  }
  if (verifySignature(envelope, certificate)) return { ok: true };
  // The sender's key may have changed behind the same URL since the certificate was cached.
  if (options.certificates.refresh) {
    const fresh = await options.certificates.refresh(envelope.SigningCertURL).catch(() => undefined);
    if (fresh && fresh !== certificate && verifySignature(envelope, fresh)) return { ok: true };
  }
  return fail('SNS_BAD_SIGNATURE', 'the signature does not match the message and its signing certificate');
}

function checkTimestamp(timestamp: string, options: VerifyEnvelopeOptions): VerifyResult | undefined {
  const sent = Date.parse(timestamp);
  if (Number.isNaN(sent)) return fail('SNS_MALFORMED', `Timestamp ${timestamp} is not a date`);
  const now = (options.now ?? Date.now)();
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const maxFutureMs = options.maxFutureMs ?? 300_000;
  if (now - sent > maxAgeMs) return fail('SNS_EXPIRED', `Timestamp ${timestamp} is older than ${maxAgeMs} ms`);
  if (sent - now > maxFutureMs) {
    return fail('SNS_EXPIRED', `Timestamp ${timestamp} is more than ${maxFutureMs} ms in the future`);
  }
  return undefined;
}

function fail(code: VerifyErrorCode, message: string): VerifyResult {
  return { ok: false, code, message };
}
