import { openAsBlob } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ErrorBody, MediaStatus, OutputStatus } from '@mp/contracts';

/** The parts of the gateway's media and output answers this service reads. */
export interface MediaView {
  id: string;
  name: string;
  sha256: string | null;
  status: MediaStatus;
  statusDetail: string | null;
  createdAt: string;
  outputs?: OutputView[];
}

export interface OutputView {
  id: string;
  format: string;
  status: OutputStatus;
  size: number | null;
}

/** A call that did not succeed. `status` is null when no answer came (network, timeout). */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    readonly status: number | null,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** A client error other than timeout or rate limit will be answered the same way next time. */
  get permanent(): boolean {
    return this.status !== null && this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

export interface Download {
  body: Readable;
  contentDisposition: string | null;
  url: string;
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;

export function createGatewayClient(opts: { baseUrl: string; token: string }) {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${opts.token}` };

  async function call<T>(method: string, route: string, signal?: AbortSignal, body?: FormData): Promise<T> {
    const res = await send(`${base}${route}`, { method, headers: auth, body, signal });
    if (!res.ok) throw await errorOf(res, `${method} ${route.split('?')[0]}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  return {
    /** Checks the token (and that the gateway answers). */
    async whoCanUpload(signal?: AbortSignal): Promise<void> {
      await call('GET', '/v1/media?limit=1', signal);
    },

    /** Streams the file from disk as multipart `file`; the gateway answers once it is stored. */
    async upload(file: string, name: string, signal?: AbortSignal): Promise<MediaView> {
      const form = new FormData();
      form.append('file', await openAsBlob(file), name);
      return call<MediaView>('POST', '/v1/media', signal, form);
    },

    media(id: string, signal?: AbortSignal): Promise<MediaView> {
      return call<MediaView>('GET', `/v1/media/${encodeURIComponent(id)}`, signal);
    },

    /** The newest of this user's media with these bytes created since `since` (epoch ms), if any. */
    async findBySha256(sha256: string, since: number, signal?: AbortSignal): Promise<MediaView | null> {
      let cursor: string | null = null;
      do {
        const page: { items: MediaView[]; nextCursor: string | null } = await call(
          'GET',
          `/v1/media?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          signal,
        );
        for (const m of page.items) {
          if (Date.parse(m.createdAt) < since) return null;
          if (m.sha256 === sha256) return m;
        }
        cursor = page.nextCursor;
      } while (cursor);
      return null;
    },

    remove(id: string, signal?: AbortSignal): Promise<void> {
      return call<void>('DELETE', `/v1/media/${encodeURIComponent(id)}`, signal);
    },

    /** Opens an output's bytes: asks the gateway for a short-lived URL, then fetches it. */
    async download(mediaId: string, outputId: string, signal?: AbortSignal): Promise<Download> {
      const { url } = await call<{ url: string }>(
        'GET',
        `/v1/media/${encodeURIComponent(mediaId)}/outputs/${encodeURIComponent(outputId)}/download?redirect=false`,
        signal,
      );
      const res = await send(url, { signal });
      if (!res.ok || !res.body) throw new GatewayError(res.status, 'DOWNLOAD_FAILED', `download of output ${outputId}: HTTP ${res.status}`);
      return {
        body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        contentDisposition: res.headers.get('content-disposition'),
        url,
      };
    },
  };
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new GatewayError(null, 'UNREACHABLE', `${new URL(url).host} unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
}

async function errorOf(res: Response, what: string): Promise<GatewayError> {
  const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
  const code = body?.error?.code ?? `HTTP_${res.status}`;
  const message = body?.error?.message ?? res.statusText;
  return new GatewayError(res.status, code, `${what}: ${res.status} ${code}: ${message}`);
}
