import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export const SIGNING_SERVICE = 'elastictranscoder';
const MAX_SKEW_MS = 15 * 60_000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

export interface ReceivedRequest {
  method: string;
  /** Path and query exactly as received, still percent-encoded. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type VerifyResult = { ok: true; accessKeyId: string } | { ok: false; reason: string };

/**
 * Checks a request's SigV4 signature by signing it again, with the AWS signer, from the headers it says it
 * signed and the secret we hold for its key id, then comparing the two signatures in constant time.
 */
/**
 * What can be checked from the headers alone, before a body is read: the Authorization header's form, a
 * known key id, the service, the date and its skew. A request that fails here is refused unread.
 */
export function checkSigV4Headers(
  headers: ReceivedRequest['headers'],
  secrets: ReadonlyMap<string, string>,
  now: Date = new Date(),
): VerifyResult {
  const authorization = header(headers, 'authorization');
  if (!authorization) return fail('Missing Authentication Token');
  const m = AUTHORIZATION.exec(authorization.trim());
  if (!m) return fail('Authorization header is not a valid AWS4-HMAC-SHA256 signature');
  const [, accessKeyId, scopeDate, , service] = m as unknown as string[];
  if (!secrets.has(accessKeyId!)) return fail('The security token included in the request is invalid');
  if (service !== SIGNING_SERVICE) return fail(`Credential should be scoped to correct service: '${SIGNING_SERVICE}'`);
  const amzDate = header(headers, 'x-amz-date');
  const signingDate = amzDate ? parseAmzDate(amzDate) : null;
  if (!signingDate) return fail('X-Amz-Date header is missing or malformed');
  if (amzDate!.slice(0, 8) !== scopeDate) return fail('Credential date does not match X-Amz-Date');
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) return fail('Signature expired or not yet valid');
  return { ok: true, accessKeyId: accessKeyId! };
}

export async function verifySigV4(
  req: ReceivedRequest,
  secrets: ReadonlyMap<string, string>,
  now: Date = new Date(),
): Promise<VerifyResult> {
  const early = checkSigV4Headers(req.headers, secrets, now);
  if (!early.ok) return early;
  const m = AUTHORIZATION.exec(header(req.headers, 'authorization')!.trim())!;
  const [, accessKeyId, , region, service, signedHeaderList, signature] = m as unknown as string[];
  const secret = secrets.get(accessKeyId!)!;
  const signingDate = parseAmzDate(header(req.headers, 'x-amz-date')!)!;

  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host')) return fail('Host must be a signed header');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(req.headers, name);
    if (value === undefined) return fail(`Signed header ${name} is missing`);
    headers[name] = value;
  }
  const declaredHash = headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(req.body).digest('hex')) {
    return fail('The provided x-amz-content-sha256 header does not match what was computed');
  }

  const { path, query } = splitUrl(req.url);
  const request: Parameters<SignatureV4['sign']>[0] = {
    method: req.method.toUpperCase(),
    protocol: 'http:',
    hostname: headers.host!,
    path,
    query,
    headers,
    body: req.body.length > 0 ? req.body : undefined,
  };
  const signer = new SignatureV4({
    service: SIGNING_SERVICE,
    region: region!,
    credentials: { accessKeyId: accessKeyId!, secretAccessKey: secret },
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(request, { signingDate, signingRegion: region!, signingService: service! });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
  const sameList = /SignedHeaders=([^,]+)/.exec(String(signed.headers.authorization))?.[1] === signedHeaderList;
  if (!sameList || !constantTimeEqual(expected, signature!)) {
    return fail('The request signature we calculated does not match the signature you provided');
  }
  return { ok: true, accessKeyId: accessKeyId! };
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

function header(headers: ReceivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(value: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The path stays encoded (the signer encodes it once more, as the client did); query values are decoded. */
function splitUrl(url: string): { path: string; query: Record<string, string | string[]> } {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query: Record<string, string | string[]> = {};
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const key = safeDecode(eq < 0 ? part : part.slice(0, eq));
      const value = eq < 0 ? '' : safeDecode(part.slice(eq + 1));
      const prev = query[key];
      query[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
  }
  return { path, query };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
