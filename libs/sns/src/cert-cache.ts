import { X509Certificate } from 'node:crypto';

export type FetchLike = (url: string, init: { signal: AbortSignal; redirect: 'error' }) => Promise<Response>;

export interface CertificateCacheOptions {
  /** Default globalThis.fetch. */
  fetch?: FetchLike;
  /** How long a fetched certificate is reused. Default one hour. */
  ttlMs?: number;
  /**
   * How long a failed fetch is answered from memory before the URL is fetched again. Default one minute:
   * forged messages naming a failing URL cannot make the cache fetch it for each of them.
   */
  failureTtlMs?: number;
  /** Largest PEM body accepted. Default 16 KiB. */
  maxBytes?: number;
  /** Whole-request time limit. Default 5 s. */
  timeoutMs?: number;
  /** Certificates kept at most; the oldest goes first. Default 100. */
  maxEntries?: number;
  /** Shortest time between two fetches of one URL forced by refresh(). Default one minute. */
  minRefreshMs?: number;
  now?: () => number;
}

export interface CertificateCache {
  /**
   * The certificate at `url`, fetched once per TTL; concurrent calls share one fetch. Rejects on any failure,
   * and with the same failure, without fetching, for `failureTtlMs` after it.
   */
  get(url: string): Promise<X509Certificate>;
  /**
   * The certificate at `url` fetched anew, for a signature that failed with the cached one (a sender whose
   * key changed behind the same URL, as LocalStack's does at every start). At most one forced fetch per
   * URL every `minRefreshMs`, so forged messages cannot make the cache fetch on each request; within
   * that time it answers the certificate it has.
   */
  refresh(url: string): Promise<X509Certificate>;
}

export class CertificateFetchError extends Error {
  override name = 'CertificateFetchError';
}

interface Entry {
  certificate: Promise<X509Certificate>;
  fetchedAt: number;
  /** Undefined while the fetch is in flight. */
  expiresAt?: number;
}

/** Callers must check the URL (certUrlAllowed) first: the cache fetches whatever it is given. */
export function createCertificateCache(options: CertificateCacheOptions = {}): CertificateCache {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const ttlMs = options.ttlMs ?? 3_600_000;
  const failureTtlMs = options.failureTtlMs ?? 60_000;
  const maxBytes = options.maxBytes ?? 16 * 1024;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 100;
  const minRefreshMs = options.minRefreshMs ?? 60_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  async function load(url: string): Promise<X509Certificate> {
    let response: Response;
    try {
      // No redirects: the URL passed the host check, wherever it might redirect to did not.
      response = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    } catch (err) {
      throw new CertificateFetchError(`fetching ${url} failed: ${describe(err)}`);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new CertificateFetchError(`fetching ${url} answered HTTP ${response.status}`);
    }
    const body = (await readLimited(response, maxBytes, url)).toString('utf8');
    if (!body.trimStart().startsWith('-----BEGIN CERTIFICATE-----')) {
      throw new CertificateFetchError(`${url} is not a PEM certificate`);
    }
    try {
      return new X509Certificate(body);
    } catch {
      throw new CertificateFetchError(`${url} is not an X.509 certificate`);
    }
  }

  function get(url: string): Promise<X509Certificate> {
    const cached = entries.get(url);
    if (cached && (cached.expiresAt === undefined || cached.expiresAt > now())) return cached.certificate;
    if (cached) entries.delete(url);

    const entry: Entry = { certificate: load(url), fetchedAt: now() };
    entries.set(url, entry);
    evictOldest();
    entry.certificate.then(
      () => {
        entry.expiresAt = now() + ttlMs;
      },
      () => {
        entry.expiresAt = now() + failureTtlMs;
      },
    );
    return entry.certificate;
  }

  function refresh(url: string): Promise<X509Certificate> {
    const cached = entries.get(url);
    if (cached && now() - cached.fetchedAt < minRefreshMs) return cached.certificate;
    entries.delete(url);
    return get(url);
  }

  function evictOldest(): void {
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) return;
      entries.delete(oldest.value);
    }
  }

  return { get, refresh };
}

async function readLimited(response: Response, maxBytes: number, url: string): Promise<Buffer> {
  const tooLarge = () => new CertificateFetchError(`${url} is larger than ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof CertificateFetchError) throw err;
    throw new CertificateFetchError(`reading ${url} failed: ${describe(err)}`);
  }
  return Buffer.concat(chunks);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
