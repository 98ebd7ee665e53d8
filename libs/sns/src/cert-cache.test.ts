import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateFetchError, createCertificateCache } from './cert-cache';
import type { FetchLike } from './cert-cache';
import { createSigningIdentity } from './signing-identity';

const URL_A = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem';
const URL_B = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-b.pem';

let pem: string;
beforeAll(async () => {
  pem = (await createSigningIdentity({ commonName: 'cache.test' })).certificatePem;
});

/** A fetch that counts calls and answers from `respond`. */
function countingFetch(respond: (url: string, init: Parameters<FetchLike>[1]) => Promise<Response> | Response) {
  const calls: string[] = [];
  const inits: Parameters<FetchLike>[1][] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push(url);
    inits.push(init);
    return respond(url, init);
  };
  return { fetch, calls, inits };
}

describe('createCertificateCache', () => {
  it('fetches once, then serves the cached certificate', async () => {
    const fake = countingFetch(() => new Response(pem));
    const cache = createCertificateCache({ fetch: fake.fetch });
    const first = await cache.get(URL_A);
    const second = await cache.get(URL_A);
    expect(first.toString()).toBe(pem);
    expect(second).toBe(first);
    expect(fake.calls).toEqual([URL_A]);
    expect(fake.inits[0]).toMatchObject({ redirect: 'error' });
    expect(fake.inits[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('coalesces concurrent gets of one URL into one fetch; other URLs fetch separately', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fake = countingFetch(async () => {
      await gate;
      return new Response(pem);
    });
    const cache = createCertificateCache({ fetch: fake.fetch });
    const pending = [cache.get(URL_A), cache.get(URL_A), cache.get(URL_A), cache.get(URL_B)];
    release();
    const [a1, a2, a3, b] = await Promise.all(pending);
    expect(fake.calls).toEqual([URL_A, URL_B]);
    expect(a2).toBe(a1);
    expect(a3).toBe(a1);
    expect(b).not.toBe(a1);
  });

  it('fetches again once the TTL has passed', async () => {
    let clock = 1_000;
    const fake = countingFetch(() => new Response(pem));
    const cache = createCertificateCache({ fetch: fake.fetch, ttlMs: 60_000, now: () => clock });
    await cache.get(URL_A);
    clock += 59_999;
    await cache.get(URL_A);
    expect(fake.calls).toHaveLength(1);
    clock += 1;
    await cache.get(URL_A);
    expect(fake.calls).toHaveLength(2);
  });

  it('refresh fetches anew, at most once per minRefreshMs per URL', async () => {
    let clock = 1_000;
    const fake = countingFetch(() => new Response(pem));
    const cache = createCertificateCache({ fetch: fake.fetch, minRefreshMs: 60_000, now: () => clock });
    const first = await cache.get(URL_A);
    // Just fetched: a refresh answers what is cached, however often it is asked.
    expect(await cache.refresh(URL_A)).toBe(first);
    expect(await cache.refresh(URL_A)).toBe(first);
    expect(fake.calls).toHaveLength(1);
    clock += 60_000;
    const fresh = await cache.refresh(URL_A);
    expect(fresh).not.toBe(first);
    expect(await cache.get(URL_A)).toBe(fresh);
    expect(await cache.refresh(URL_A)).toBe(fresh);
    expect(fake.calls).toEqual([URL_A, URL_A]);
  });

  it('answers a failure from memory for failureTtlMs, then fetches again', async () => {
    let clock = 1_000;
    let fail = true;
    const fake = countingFetch(() => (fail ? new Response('oops', { status: 503 }) : new Response(pem)));
    const cache = createCertificateCache({ fetch: fake.fetch, failureTtlMs: 60_000, now: () => clock });
    await expect(cache.get(URL_A)).rejects.toThrow('answered HTTP 503');
    fail = false;
    clock += 59_999;
    await expect(cache.get(URL_A)).rejects.toThrow('answered HTTP 503');
    await expect(cache.refresh(URL_A)).rejects.toThrow('answered HTTP 503');
    expect(fake.calls).toHaveLength(1);
    clock += 1;
    await expect(cache.get(URL_A)).resolves.toBeDefined();
    expect(fake.calls).toHaveLength(2);
  });

  it('shares one failure among concurrent callers and later ones; another URL is fetched', async () => {
    const fake = countingFetch(() => Promise.reject(new Error('ECONNREFUSED')));
    const cache = createCertificateCache({ fetch: fake.fetch });
    const results = await Promise.allSettled([cache.get(URL_A), cache.get(URL_A)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(cache.get(URL_A)).rejects.toThrow(CertificateFetchError);
    expect(fake.calls).toEqual([URL_A]);
    await expect(cache.get(URL_B)).rejects.toThrow(CertificateFetchError);
    expect(fake.calls).toEqual([URL_A, URL_B]);
  });

  it('fetches a failing URL on a real server once a minute, however many messages name it', async () => {
    let fetches = 0;
    const server = http.createServer((_req, res) => {
      fetches += 1;
      res.writeHead(500).end('no certificate here');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/SimpleNotificationService-forged.pem`;
      let clock = 1_000;
      const cache = createCertificateCache({ now: () => clock });
      for (let i = 0; i < 20; i += 1) {
        await expect(i % 2 ? cache.refresh(url) : cache.get(url)).rejects.toThrow('answered HTTP 500');
        clock += 1_000;
      }
      expect(fetches).toBe(1);
      clock += 40_000;
      await expect(cache.get(url)).rejects.toThrow('answered HTTP 500');
      expect(fetches).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each<[string, () => Response, RegExp]>([
    ['an HTTP error', () => new Response('not found', { status: 404 }), /answered HTTP 404/],
    ['a body that is not PEM', () => new Response('<html>hello</html>'), /not a PEM certificate/],
    [
      'a PEM header over garbage',
      () => new Response('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      /not an X\.509 certificate/,
    ],
    ['an empty body', () => new Response(null), /not a PEM certificate/],
    [
      'a declared length over the limit',
      () => new Response('x', { headers: { 'content-length': '16385' } }),
      /larger than 16384 bytes/,
    ],
    ['a streamed body over the limit', () => new Response(streamOf(8, 4096)), /larger than 16384 bytes/],
  ])('rejects %s with CertificateFetchError', async (_name, respond, message) => {
    const cache = createCertificateCache({ fetch: countingFetch(respond).fetch });
    const result = cache.get(URL_A);
    await expect(result).rejects.toThrow(CertificateFetchError);
    await expect(result).rejects.toThrow(message);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const padded = pem.padEnd(pem.length + 100, '\n');
    const cache = createCertificateCache({
      fetch: countingFetch(() => new Response(padded)).fetch,
      maxBytes: padded.length,
    });
    await expect(cache.get(URL_A)).resolves.toBeDefined();
  });

  it('gives up when the server does not answer within the timeout', async () => {
    const fake = countingFetch(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal.addEventListener('abort', () => reject(init.signal.reason));
        }),
    );
    const cache = createCertificateCache({ fetch: fake.fetch, timeoutMs: 20 });
    await expect(cache.get(URL_A)).rejects.toThrow(/fetching .* failed/);
  });

  it('keeps at most maxEntries certificates, dropping the oldest', async () => {
    const fake = countingFetch(() => new Response(pem));
    const cache = createCertificateCache({ fetch: fake.fetch, maxEntries: 2 });
    const urls = ['a', 'b', 'c'].map((x) => `https://sns.us-east-1.amazonaws.com/${x}.pem`);
    for (const url of urls) await cache.get(url);
    await cache.get(urls[2]!);
    await cache.get(urls[1]!);
    expect(fake.calls).toHaveLength(3);
    await cache.get(urls[0]!);
    expect(fake.calls).toHaveLength(4);
  });
});

function streamOf(chunks: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ === chunks) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(0x41));
    },
  });
}
