import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import path from 'node:path';
import {
  ALGORITHM_IDENTIFIER,
  MAX_PRESIGNED_TTL,
  SignatureV4Base,
  UNSIGNED_PAYLOAD,
  createScope,
  getCanonicalHeaders,
  getSigningKey,
  type getCanonicalQuery,
} from '@smithy/signature-v4';

// Request authentication and key checks of the embedded S3, as S3 does them (SigV4:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html). Pure but for the
// hashing: the raw request in, a refusal (or null) out.

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RawRequest {
  method: string;
  /** As sent: path and query still percent-encoded. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface S3Refusal {
  status: number;
  code: string;
  message: string;
}

/** S3 refuses a request whose time is more than 15 minutes away from its own. */
export const MAX_SKEW_MS = 15 * 60_000;

type SignableRequest = Parameters<typeof getCanonicalQuery>[0];
type SourceData = string | ArrayBuffer | ArrayBufferView;

const denied = (message: string): S3Refusal => ({ status: 403, code: 'AccessDenied', message });
const mismatch: S3Refusal = {
  status: 403,
  code: 'SignatureDoesNotMatch',
  message:
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
};

/** SHA-256 and HMAC-SHA256 in the shape @smithy/signature-v4 hashes with. */
export class Sha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.start();
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.start();
  }
  private start(): Hash | Hmac {
    const s = this.secret;
    if (s === undefined) return createHash('sha256');
    return createHmac(
      'sha256',
      typeof s === 'string'
        ? s
        : ArrayBuffer.isView(s)
          ? Buffer.from(s.buffer, s.byteOffset, s.byteLength)
          : Buffer.from(s),
    );
  }
}

/**
 * The SigV4 signer of the AWS SDK, configured as the SDK configures it for S3 (the path is signed as sent,
 * not escaped again), asked for the signature of a request as the client described it.
 */
class S3Signer extends SignatureV4Base {
  constructor(private readonly credentials: S3Credentials) {
    super({
      service: 's3',
      region: 'us-east-1',
      credentials,
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  async signatureOf(
    request: SignableRequest,
    signedHeaders: string[],
    payloadHash: string,
    longDate: string,
    scope: Scope,
  ): Promise<string> {
    const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signedHeaders));
    const canonicalRequest = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    const scopeText = createScope(scope.date, scope.region, scope.service);
    const stringToSign = await this.createStringToSign(longDate, scopeText, canonicalRequest, ALGORITHM_IDENTIFIER);
    const key = await getSigningKey(Sha256, this.credentials, scope.date, scope.region, scope.service);
    return Buffer.from(await hmac(key, stringToSign)).toString('hex');
  }
}

async function hmac(key: Uint8Array, text: string): Promise<Uint8Array> {
  const h = new Sha256(key);
  h.update(Buffer.from(text, 'utf8'));
  return h.digest();
}

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

/** What a signature claims, from the Authorization header or the query of a presigned URL. */
interface Claim {
  scope: Scope;
  longDate: string;
  signedHeaders: string[];
  signature: string;
  payloadHash: string;
}

/**
 * Checks that a request is signed with the server's own credentials: a SigV4 Authorization header, or a
 * presigned URL within its X-Amz-Expires. The payload hash is the one the client declares
 * (x-amz-content-sha256, possibly UNSIGNED-PAYLOAD or STREAMING-*); the body itself is not hashed.
 */
export async function authenticate(req: RawRequest, credentials: S3Credentials, now: Date): Promise<S3Refusal | null> {
  const [rawPath = '/', rawQuery = ''] = splitOnce(req.url, '?');
  const query = parseQuery(rawQuery);
  if (!query) return { status: 400, code: 'InvalidURI', message: "Couldn't parse the specified URI." };
  const authorization = header(req.headers, 'authorization');
  const presigned = 'X-Amz-Algorithm' in query;
  if (authorization === undefined && !presigned) return denied('Access Denied');
  if (authorization !== undefined && presigned) {
    return denied(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    );
  }
  const claim = presigned ? presignedClaim(query, now) : headerClaim(authorization!, req.headers, now);
  if ('status' in claim) return claim;
  if (claim.scope.accessKeyId !== credentials.accessKeyId) {
    return {
      status: 403,
      code: 'InvalidAccessKeyId',
      message: 'The AWS Access Key Id you provided does not exist in our records.',
    };
  }
  if (
    claim.scope.service !== 's3' ||
    claim.longDate.slice(0, 8) !== claim.scope.date ||
    !claim.signedHeaders.includes('host')
  )
    return mismatch;

  const headers: Record<string, string> = {};
  for (const name of claim.signedHeaders) {
    const value = header(req.headers, name);
    if (value === undefined) return mismatch;
    headers[name] = value;
  }
  const request: SignableRequest = {
    method: req.method,
    protocol: 'http:',
    hostname: '',
    path: rawPath,
    query,
    headers,
  };
  const expected = await new S3Signer(credentials).signatureOf(
    request,
    claim.signedHeaders,
    claim.payloadHash,
    claim.longDate,
    claim.scope,
  );
  return sameHex(expected, claim.signature) ? null : mismatch;
}

function headerClaim(authorization: string, headers: RawRequest['headers'], now: Date): Claim | S3Refusal {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(authorization.trim());
  if (!match) return denied('Unsupported Authorization Type: only AWS4-HMAC-SHA256 is accepted');
  const parts = new Map(
    match[1]!.split(',').map((p) => {
      const [k = '', v = ''] = splitOnce(p.trim(), '=');
      return [k, v] as const;
    }),
  );
  const scope = parseScope(parts.get('Credential'));
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!scope || !signedHeaders || !signature) {
    return {
      status: 400,
      code: 'AuthorizationHeaderMalformed',
      message: 'The authorization header is malformed; it requires Credential, SignedHeaders and Signature.',
    };
  }
  const longDate = header(headers, 'x-amz-date');
  const time = longDate === undefined ? Number.NaN : parseLongDate(longDate);
  if (Number.isNaN(time)) return denied('AWS authentication requires a valid x-amz-date header');
  if (Math.abs(now.getTime() - time) > MAX_SKEW_MS) {
    return {
      status: 403,
      code: 'RequestTimeTooSkewed',
      message: 'The difference between the request time and the current time is too large.',
    };
  }
  const payloadHash = header(headers, 'x-amz-content-sha256');
  if (payloadHash === undefined)
    return {
      status: 400,
      code: 'InvalidRequest',
      message: 'Missing required header for this request: x-amz-content-sha256',
    };
  return { scope, longDate: longDate!, signedHeaders: signedHeaders.split(';'), signature, payloadHash };
}

function presignedClaim(query: Record<string, string | string[]>, now: Date): Claim | S3Refusal {
  const one = (name: string) => (typeof query[name] === 'string' ? query[name] : undefined);
  if (one('X-Amz-Algorithm') !== ALGORITHM_IDENTIFIER)
    return denied('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const scope = parseScope(one('X-Amz-Credential'));
  const longDate = one('X-Amz-Date');
  const expires = one('X-Amz-Expires');
  const signedHeaders = one('X-Amz-SignedHeaders');
  const signature = one('X-Amz-Signature');
  if (!scope || !longDate || !expires || !signedHeaders || !signature) {
    return denied(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const time = parseLongDate(longDate);
  const seconds = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN;
  if (Number.isNaN(time)) return denied("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  if (!(seconds <= MAX_PRESIGNED_TTL))
    return denied('X-Amz-Expires must be a number of seconds of at most a week (604800)');
  if (time - now.getTime() > MAX_SKEW_MS) return denied('Request is not valid yet');
  if (now.getTime() > time + seconds * 1000) return denied('Request has expired');
  // A presigned URL's payload is UNSIGNED-PAYLOAD unless the URL says otherwise.
  const declared = Object.entries(query).find(([k]) => k.toLowerCase() === 'x-amz-content-sha256')?.[1];
  const payloadHash = typeof declared === 'string' ? declared : UNSIGNED_PAYLOAD;
  return { scope, longDate, signedHeaders: signedHeaders.split(';'), signature, payloadHash };
}

/** `AKID/yyyymmdd/region/service/aws4_request` */
function parseScope(credential: string | undefined): Scope | undefined {
  const parts = credential?.split('/');
  if (parts?.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return /^\d{8}$/.test(date) ? { accessKeyId, date, region, service } : undefined;
}

/** `yyyymmddThhmmssZ` in ms since the epoch, or NaN. */
export function parseLongDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : Number.NaN;
}

/** The query as the signer wants it: names and values decoded once; a repeated name holds a list. */
function parseQuery(raw: string): Record<string, string | string[]> | null {
  const query: Record<string, string | string[]> = {};
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const [k = '', v = ''] = splitOnce(pair, '=');
    const name = decode(k);
    const value = decode(v);
    if (name === null || value === null) return null;
    const prior = query[name];
    query[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  return query;
}

function header(headers: RawRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function splitOnce(text: string, sep: string): [string, string?] {
  const i = text.indexOf(sep);
  return i < 0 ? [text] : [text.slice(0, i), text.slice(i + sep.length)];
}

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * Refuses a bucket or key that names `..` as a path segment, or that would otherwise resolve outside the
 * store's folder: s3rver maps keys onto the file system with path.join. `pathname` is percent-encoded, as
 * sent (an encoded `%2F` or `%2e%2e` is still a separator or a `..` once s3rver decodes it).
 */
export function unsafeKeyPath(root: string, pathname: string): S3Refusal | null {
  const decoded = decode(pathname);
  if (decoded === null) return { status: 400, code: 'InvalidURI', message: "Couldn't parse the specified URI." };
  const segments = decoded.split('/').filter(Boolean);
  const resolved = path.resolve(root, ...segments);
  if (segments.includes('..') || (resolved !== root && !resolved.startsWith(`${root}${path.sep}`))) {
    return {
      status: 400,
      code: 'InvalidArgument',
      message: "Bucket names and object keys must not contain '..' as a path segment.",
    };
  }
  return null;
}
