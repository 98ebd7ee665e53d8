export interface UrlPolicy {
  /**
   * Hosts trusted besides `sns.<region>.amazonaws.com(.cn)`, matched exactly against the URL's host:
   * `host` (default port only) or `host:port`.
   */
  allowedHosts?: readonly string[];
  /** Refuse plain http even for the extra hosts. Default true. AWS hosts always need https. */
  requireHttps?: boolean;
}

// The AWS SDK validators' pattern, tested against the host with no port.
const AWS_SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** Whether a URL points at a host we trust to speak for SNS (SubscribeURL, UnsubscribeURL). */
export function urlHostAllowed(url: string, policy: UrlPolicy = {}): boolean {
  const parsed = parseUrl(url);
  if (!parsed) return false;
  // https://sns.x.amazonaws.com@evil.example/ would otherwise read as an AWS URL to a human.
  if (parsed.username !== '' || parsed.password !== '') return false;
  const https = parsed.protocol === 'https:';
  if (!https && parsed.protocol !== 'http:') return false;
  if (!https && (policy.requireHttps ?? true)) return false;
  if (https && parsed.port === '' && AWS_SNS_HOST.test(parsed.hostname)) return true;
  return (policy.allowedHosts ?? []).some((entry) => normalizeHost(entry, parsed.protocol) === parsed.host);
}

/** Whether a SigningCertURL may be fetched: a trusted host, and a path naming a `.pem` file. */
export function certUrlAllowed(url: string, policy: UrlPolicy = {}): boolean {
  const parsed = parseUrl(url);
  return parsed !== undefined && parsed.pathname.endsWith('.pem') && urlHostAllowed(url, policy);
}

// Lets `Host:443` in the list match `https://host/`, as URL drops default ports and lowercases.
function normalizeHost(entry: string, protocol: string): string | undefined {
  if (/[@/\\?#]/.test(entry)) return undefined;
  return parseUrl(`${protocol}//${entry}/`)?.host;
}

function parseUrl(url: string): URL | undefined {
  if (typeof url !== 'string') return undefined;
  return URL.canParse(url) ? new URL(url) : undefined;
}
