import type { FastifyRequest } from 'fastify';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3Settings } from '@mp/storage';

// The addresses a browser uses: the gateway, the notifier and S3 as seen from the device the page was loaded on.
// A configured URL is used as it is, except that a loopback host (127.0.0.1, localhost, *.localhost) is replaced
// by the host the request came to: a phone that loaded http://192.168.1.20:3000 reaches the notifier and S3 at
// 192.168.1.20 too, on their own ports. Unset, the gateway's own address is the request's origin.

const HOSTNAME =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/i;

export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return (
    h === 'localhost' || h.endsWith('.localhost') || h === '[::1]' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h)
  );
}

/** The request's host name (no port), when it is a plain name or address; null for anything else. */
export function requestHostname(req: FastifyRequest): string | null {
  const h = req.hostname;
  return h && HOSTNAME.test(h) ? h : null;
}

/** The origin the request was made to (scheme, host and port), when its Host header is a plain host[:port]. */
export function requestOrigin(req: FastifyRequest): string | null {
  const host = req.host;
  if (!host || !/^[a-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/i.test(host)) return null;
  return `${req.protocol}://${host}`;
}

/** `configured` as the requesting device reaches it: a loopback host becomes the request's host. */
export function forRequest(configured: string, req: FastifyRequest): string {
  if (!configured) return '';
  let url: URL;
  try {
    url = new URL(configured);
  } catch {
    return configured;
  }
  const host = requestHostname(req);
  if (!host || !isLoopback(url.hostname) || isLoopback(host)) return configured.replace(/\/+$/, '');
  url.hostname = host;
  return url.toString().replace(/\/+$/, '');
}

export interface PublicUrlSettings {
  /** GATEWAY_PUBLIC_URL; empty: the request's origin. */
  gateway: string;
  /** NOTIFIER_PUBLIC_URL; empty: the gateway's origin. */
  notifier: string;
  /** S3_PUBLIC_URL; empty: S3_ENDPOINT (or AWS's own endpoint when that is unset too). */
  s3: string;
}

/**
 * Resolves the public addresses per request, and signs S3 URLs for the public endpoint with a client kept per
 * endpoint (a presigned URL's signature covers its host, so it must be made for the host the browser uses).
 */
export class PublicUrls {
  private readonly signers = new Map<string, S3Client>();

  constructor(
    private readonly settings: PublicUrlSettings,
    private readonly s3: S3Settings,
    private readonly internal: S3Client,
  ) {}

  gateway(req: FastifyRequest): string {
    return forRequest(this.settings.gateway, req) || requestOrigin(req) || '';
  }

  notifier(req: FastifyRequest): string {
    return forRequest(this.settings.notifier, req) || this.gateway(req);
  }

  /** The S3 client whose presigned URLs work from the requesting device. */
  signer(req: FastifyRequest): S3Client {
    const configured = this.settings.s3 || this.s3.endpoint || '';
    if (!configured) return this.internal;
    const endpoint = forRequest(configured, req);
    if (endpoint === (this.s3.endpoint ?? '').replace(/\/+$/, '')) return this.internal;
    let client = this.signers.get(endpoint);
    if (!client) {
      if (this.signers.size >= 32) this.close();
      client = createS3Client({ ...this.s3, endpoint });
      this.signers.set(endpoint, client);
    }
    return client;
  }

  close(): void {
    for (const c of this.signers.values()) c.destroy();
    this.signers.clear();
  }
}
