// The one client of the upload-gateway's API (gateway-api.ts): drop-folder, tools/stack and every test that
// creates users or uploads go through it.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ErrorBody } from './errors';
import type {
  CreatedUser,
  CreateUserRequest,
  DownloadLink,
  MediaDto,
  MediaPage,
  MediaWithOutputs,
} from './gateway-api';

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
    return (
      this.status !== null && this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429
    );
  }
}

export interface Download {
  body: Readable;
  contentDisposition: string | null;
  url: string;
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;

const trimBase = (url: string) => url.replace(/\/+$/, '');

/** POST /v1/users with the admin token: the new user and its token, shown once. */
export async function createUser(
  baseUrl: string,
  adminToken: string,
  name: string,
  signal?: AbortSignal,
): Promise<CreatedUser> {
  const body: CreateUserRequest = { name };
  const res = await send(`${trimBase(baseUrl)}/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  if (res.status !== 201) throw await errorOf(res, 'POST /v1/users');
  return (await res.json()) as CreatedUser;
}

/** The gateway as one user calls it, with that user's token. */
export function createGatewayClient(opts: { baseUrl: string; token: string }) {
  const base = trimBase(opts.baseUrl);
  const auth = { authorization: `Bearer ${opts.token}` };

  async function call<T>(method: string, route: string, signal?: AbortSignal): Promise<T> {
    const res = await send(`${base}${route}`, { method, headers: auth, signal });
    if (!res.ok) throw await errorOf(res, `${method} ${route.split('?')[0]}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** GET /v1/media: one page of this user's media, newest first. */
  function list(page: { cursor?: string | null; limit?: number } = {}, signal?: AbortSignal): Promise<MediaPage> {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set('limit', String(page.limit));
    if (page.cursor) query.set('cursor', page.cursor);
    const qs = query.toString();
    return call<MediaPage>('GET', `/v1/media${qs ? `?${qs}` : ''}`, signal);
  }

  return {
    /** Checks the token (and that the gateway answers). */
    async verifyToken(signal?: AbortSignal): Promise<void> {
      await list({ limit: 1 }, signal);
    },

    list,

    /** Streams the file from disk as multipart `file`; the gateway answers once it is stored. */
    async upload(file: string, name: string, signal?: AbortSignal): Promise<MediaWithOutputs> {
      const res = await postFile(`${base}/v1/media`, auth, file, name, signal);
      if (!res.ok) throw await errorOf(res, 'POST /v1/media');
      return (await res.json()) as MediaWithOutputs;
    },

    /** Uploads bytes held in memory as multipart `file`. */
    async uploadBytes(bytes: Uint8Array | Blob, filename: string, signal?: AbortSignal): Promise<MediaWithOutputs> {
      const form = new FormData();
      form.append('file', bytes instanceof Blob ? bytes : new Blob([bytes]), filename);
      const res = await send(`${base}/v1/media`, { method: 'POST', headers: auth, body: form, signal });
      if (res.status !== 201) throw await errorOf(res, 'POST /v1/media');
      return (await res.json()) as MediaWithOutputs;
    },

    media(id: string, signal?: AbortSignal): Promise<MediaWithOutputs> {
      return call<MediaWithOutputs>('GET', `/v1/media/${encodeURIComponent(id)}`, signal);
    },

    /** The newest of this user's media with these bytes created since `since` (epoch ms), if any. */
    async findBySha256(sha256: string, since: number, signal?: AbortSignal): Promise<MediaDto | null> {
      let cursor: string | null = null;
      do {
        const page: MediaPage = await list({ limit: 100, cursor }, signal);
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
      const { url } = await call<DownloadLink>(
        'GET',
        `/v1/media/${encodeURIComponent(mediaId)}/outputs/${encodeURIComponent(outputId)}/download?redirect=false`,
        signal,
      );
      const res = await send(url, { signal });
      if (!res.ok || !res.body)
        throw new GatewayError(res.status, 'DOWNLOAD_FAILED', `download of output ${outputId}: HTTP ${res.status}`);
      return {
        body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        contentDisposition: res.headers.get('content-disposition'),
        url,
      };
    },
  };
}

/** Bytes of the file sent before pausing for an early answer: more than the gateway reads to tell its type. */
const PROBE_BYTES = 8 * 1024;
const EARLY_ANSWER_MS = 250;

/**
 * POSTs the file as multipart/form-data with one part, `file`, read from disk as it is sent. Uses node:http,
 * which honours backpressure (fetch reads a streamed body ahead of the socket, up to the whole file).
 *
 * The gateway refuses a file it cannot take (415) after reading its first bytes, and closes the connection.
 * If we were still sending, that close resets the socket and the answer is lost. So the first few KiB go
 * alone and we wait briefly for such an answer before sending the rest, as `Expect: 100-continue` would.
 */
async function postFile(
  url: string,
  auth: Record<string, string>,
  file: string,
  name: string,
  signal?: AbortSignal,
): Promise<Response> {
  const boundary = `----drop-folder-${randomBytes(12).toString('hex')}`;
  // The name is escaped as browsers do (WHATWG HTML, multipart/form-data encoding).
  const escaped = name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${escaped}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const { size } = await stat(file);
  const target = new URL(url);
  const headers = {
    ...auth,
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'content-length': String(head.length + size + tail.length),
  };

  return new Promise((resolve, reject) => {
    let answered = false;
    let onAnswer: () => void = () => {};
    const answer = new Promise<void>((r) => (onAnswer = r));
    const req = (target.protocol === 'https:' ? https : http).request(
      target,
      { method: 'POST', headers, signal },
      (res) => {
        answered = true;
        onAnswer();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 502;
          const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, statusText: res.statusMessage ?? '' }));
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (answered) return; // the gateway answered early and closed: its answer settles this
      if (err.name === 'AbortError') reject(err);
      else if (err.code === 'EPIPE' || err.code === 'ECONNRESET') {
        reject(
          new GatewayError(
            null,
            'CONNECTION_CLOSED',
            `${target.host} closed the connection during the upload (${err.code}); it may refuse this file`,
          ),
        );
      } else reject(new GatewayError(null, 'UNREACHABLE', `${target.host} unreachable: ${err.code ?? err.message}`));
    });

    async function* body() {
      yield head;
      yield* createReadStream(file, { start: 0, end: PROBE_BYTES - 1 });
      if (size > PROBE_BYTES) {
        await Promise.race([answer, new Promise((r) => setTimeout(r, EARLY_ANSWER_MS))]);
        if (answered) return;
        yield* createReadStream(file, { start: PROBE_BYTES });
      }
      yield tail;
    }
    pipeline(Readable.from(body()), req).catch(() => {});
  });
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new GatewayError(
      null,
      'UNREACHABLE',
      `${new URL(url).host} unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
}

async function errorOf(res: Response, what: string): Promise<GatewayError> {
  const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
  const code = body?.error?.code ?? `HTTP_${res.status}`;
  const message = body?.error?.message ?? res.statusText;
  return new GatewayError(res.status, code, `${what}: ${res.status} ${code}: ${message}`);
}
