import http from 'node:http';

export const MiB = 1024 * 1024;

export interface TusAnswer {
  status: number;
  headers: Headers;
  body: { error?: { code: string; message: string } } | null;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function answer(res: Response): Promise<TusAnswer> {
  const text = await res.text();
  let body: TusAnswer['body'] = null;
  try {
    body = text ? (JSON.parse(text) as TusAnswer['body']) : null;
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body };
}

const auth = (token: string | null): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** POST /v1/uploads (creation, or creation-with-upload when a body is given). */
export async function create(
  base: string,
  token: string | null,
  length: number,
  opts: { name?: string; body?: Buffer; headers?: Record<string, string> } = {},
): Promise<TusAnswer & { url: string | null }> {
  const headers: Record<string, string> = {
    ...auth(token),
    'tus-resumable': '1.0.0',
    'upload-length': String(length),
    ...(opts.name !== undefined ? { 'upload-metadata': `filename ${b64(opts.name)}` } : {}),
    ...(opts.body ? { 'content-type': 'application/offset+octet-stream' } : {}),
    ...opts.headers,
  };
  const res = await fetch(`${base}/v1/uploads`, {
    method: 'POST',
    headers,
    ...(opts.body ? { body: new Uint8Array(opts.body) } : {}),
  });
  const location = res.headers.get('location');
  return { ...(await answer(res)), url: location ? new URL(location, `${base}/v1/uploads`).toString() : null };
}

export async function head(url: string, token: string | null): Promise<TusAnswer & { offset: number | null }> {
  const res = await fetch(url, { method: 'HEAD', headers: { ...auth(token), 'tus-resumable': '1.0.0' } });
  const offset = res.headers.get('upload-offset');
  return { ...(await answer(res)), offset: offset === null ? null : Number(offset) };
}

export async function patch(url: string, token: string | null, offset: number, body: Buffer): Promise<TusAnswer> {
  const res = await fetch(url, {
    method: 'PATCH',
    headers: {
      ...auth(token),
      'tus-resumable': '1.0.0',
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    },
    body: new Uint8Array(body),
  });
  return answer(res);
}

export async function terminate(url: string, token: string | null): Promise<TusAnswer> {
  const res = await fetch(url, { method: 'DELETE', headers: { ...auth(token), 'tus-resumable': '1.0.0' } });
  return answer(res);
}

/**
 * A PATCH that announces the whole rest of the file but sends only `sent` bytes of it, then drops the
 * connection, as a phone losing its network does. Resolves once the socket is gone.
 */
export function patchCut(url: string, token: string, offset: number, rest: Buffer, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'PATCH',
      headers: {
        ...auth(token),
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        'content-length': String(rest.length),
      },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.on('response', (res) => res.resume());
    req.write(rest.subarray(0, sent), () => {
      // Long enough for the bytes to leave this process and reach the gateway, then the network goes.
      setTimeout(() => req.destroy(), 300);
    });
  });
}

/** Waits until the upload's offset stops moving (an interrupted PATCH is still being stored) and returns it. */
export async function settledOffset(url: string, token: string, timeoutMs = 15_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const h = await head(url, token);
    if (h.status !== 200 || h.offset === null) throw new Error(`HEAD answered ${h.status}`);
    if (h.offset === last) return h.offset;
    if (Date.now() > until) throw new Error(`offset still moving: ${h.offset}`);
    last = h.offset;
    await new Promise((r) => setTimeout(r, 400));
  }
}
