import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { authenticate, unsafeKeyPath, type S3Credentials, type S3Refusal } from './s3-auth';

interface S3rver {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: { port: number; address: string; silent: boolean; directory: string }) => S3rver;
// s3rver ships CommonJS without types.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

// s3rver implements neither ListMultipartUploads, ListParts nor AbortMultipartUpload. They matter here (an
// aborted upload must leave no parts; a resumable upload finds where it stopped by its parts), so they are added
// over its on-disk layout: <bucket>/._S3rver_uploads/<id>/{key,<part number>,<part number>.md5}.
const UPLOADS_DIR = '._S3rver_uploads';

export interface EmbeddedS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

// s3rver's own key pair: the only credentials it knows.
const CREDENTIALS: S3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * s3rver on 127.0.0.1, answering only requests signed with its key pair (s3rver itself accepts anonymous
 * ones and never checks a SigV4 signature), and refusing keys that would leave its folder. Refusals are S3
 * error XML: 403 AccessDenied (no signature, or a presigned URL past X-Amz-Expires), SignatureDoesNotMatch,
 * InvalidAccessKeyId or RequestTimeTooSkewed (over 15 minutes); 400 InvalidArgument for a bucket, key or
 * copy source with a `..` path segment. A given directory persists; without one, a temporary one is removed
 * on close.
 */
export async function startEmbeddedS3(
  opts: { port?: number; directory?: string | undefined } = {},
): Promise<EmbeddedS3> {
  const keep = Boolean(opts.directory);
  const directory = path.resolve(opts.directory ?? (await mkdtemp(path.join(tmpdir(), 'mp-s3rver-'))));
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ port: opts.port ?? 0, address: '127.0.0.1', silent: true, directory });
  addGuards(server, directory);
  addMultipartExtras(server, directory);
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...CREDENTIALS,
    async close() {
      await server.close();
      if (!keep) await rm(directory, { recursive: true, force: true });
    },
  };
}

type KoaCtx = {
  method: string;
  path: string;
  originalUrl: string;
  query: Record<string, string | undefined>;
  req: { headers: Record<string, string | string[] | undefined> };
  status: number;
  type: string;
  body: unknown;
};
type Middleware = (ctx: KoaCtx, next: () => Promise<void>) => Promise<void>;

/** Puts a middleware before the router (the last one), after logging, XML encoding and the vhost rewrite. */
function beforeRouter(server: S3rver, mw: Middleware): void {
  const stack = (server as unknown as { middleware: unknown[] }).middleware;
  stack.splice(stack.length - 1, 0, mw);
}

/**
 * A signature on every request but CORS preflights (browsers send those without one), then keys that stay
 * in the folder: in the path, and in the source of a copy.
 */
function addGuards(server: S3rver, root: string): void {
  beforeRouter(server, async (ctx, next) => {
    const preflight = ctx.method === 'OPTIONS' && ctx.req.headers['access-control-request-method'] !== undefined;
    const refusal =
      (preflight
        ? null
        : await authenticate(
            { method: ctx.method, url: ctx.originalUrl, headers: ctx.req.headers },
            CREDENTIALS,
            new Date(),
          )) ??
      unsafeKeyPath(root, ctx.path) ??
      copySourceRefusal(root, ctx.req.headers['x-amz-copy-source']);
    if (refusal) return refuse(ctx, refusal);
    return next();
  });
}

function copySourceRefusal(root: string, source: string | string[] | undefined): S3Refusal | null {
  if (typeof source !== 'string') return null;
  const [pathPart = ''] = source.split('?');
  return unsafeKeyPath(root, pathPart.startsWith('/') ? pathPart : `/${pathPart}`);
}

function refuse(ctx: KoaCtx, r: S3Refusal): void {
  ctx.status = r.status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(r.code)}</Code><Message>${esc(r.message)}</Message></Error>`;
}

function addMultipartExtras(server: S3rver, root: string): void {
  beforeRouter(server, async (ctx, next) => {
    const parts = ctx.path.split('/').filter(Boolean).map(decodeURIComponent);
    const bucket = parts[0];
    if (!bucket || bucket.includes('..')) return next();
    const uploadsDir = path.join(root, bucket, UPLOADS_DIR);
    if (ctx.method === 'GET' && parts.length === 1 && 'uploads' in ctx.query) {
      const ids = await readdir(uploadsDir).catch(() => [] as string[]);
      const uploads = await Promise.all(
        ids.map(async (id) => ({
          id,
          key: await readFile(path.join(uploadsDir, id, 'key'), 'utf8').catch(() => ''),
          initiated: await stat(path.join(uploadsDir, id, 'key')).then(
            (st) => st.mtime.toISOString(),
            () => new Date().toISOString(),
          ),
        })),
      );
      const prefix = ctx.query.prefix ?? '';
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body =
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${esc(bucket)}</Bucket>` +
        `<Prefix>${esc(prefix)}</Prefix><IsTruncated>false</IsTruncated>` +
        uploads
          .filter((u) => u.key.startsWith(prefix))
          .map(
            (u) =>
              `<Upload><Key>${esc(u.key)}</Key><UploadId>${esc(u.id)}</UploadId>` +
              `<Initiated>${u.initiated}</Initiated></Upload>`,
          )
          .join('') +
        `</ListMultipartUploadsResult>`;
      return;
    }
    const uploadId = ctx.query.uploadId;
    if (ctx.method === 'GET' && parts.length > 1 && uploadId) {
      if (!/^[\w-]+$/.test(uploadId)) {
        ctx.status = 400;
        return;
      }
      const listed = await listParts(path.join(uploadsDir, uploadId), ctx.query);
      if (!listed) return noSuchUpload(ctx);
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body = listPartsXml(bucket, parts.slice(1).join('/'), uploadId, listed);
      return;
    }
    if (ctx.method === 'DELETE' && parts.length > 1 && uploadId) {
      if (!/^[\w-]+$/.test(uploadId)) {
        ctx.status = 400;
        return;
      }
      const dir = path.join(uploadsDir, uploadId);
      const exists = await readdir(dir).then(
        () => true,
        () => false,
      );
      if (!exists) return noSuchUpload(ctx);
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    return next();
  });
}

function noSuchUpload(ctx: KoaCtx): void {
  ctx.status = 404;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>`;
}

interface PartEntry {
  number: number;
  etag: string;
  size: number;
  lastModified: string;
}

interface ListedParts {
  parts: PartEntry[];
  marker: number;
  maxParts: number;
  truncated: boolean;
}

/**
 * The parts of an upload in part-number order, from `part-number-marker` (exclusive), at most `max-parts`
 * (default and cap 1000, as S3). Null when the upload does not exist.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
 */
async function listParts(dir: string, query: Record<string, string | undefined>): Promise<ListedParts | null> {
  const names = await readdir(dir).catch(() => null);
  if (!names) return null;
  const marker = Math.max(0, Number.parseInt(query['part-number-marker'] ?? '0', 10) || 0);
  const maxParts = Math.min(1000, Math.max(1, Number.parseInt(query['max-parts'] ?? '1000', 10) || 1000));
  const numbers = names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((n) => n > marker)
    .sort((a, b) => a - b);
  const page = numbers.slice(0, maxParts);
  const parts: PartEntry[] = [];
  for (const number of page) {
    // A part being written has no .md5 yet: S3 lists a part once its upload succeeded.
    const md5 = await readFile(path.join(dir, `${number}.md5`), 'utf8').catch(() => null);
    if (md5 === null) continue;
    const st = await stat(path.join(dir, String(number)));
    parts.push({ number, etag: `"${md5.trim()}"`, size: st.size, lastModified: st.mtime.toISOString() });
  }
  return { parts, marker, maxParts, truncated: numbers.length > page.length };
}

function listPartsXml(bucket: string, key: string, uploadId: string, l: ListedParts): string {
  const next = l.parts.at(-1)?.number ?? l.marker;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key>` +
    `<UploadId>${esc(uploadId)}</UploadId><PartNumberMarker>${l.marker}</PartNumberMarker>` +
    `<NextPartNumberMarker>${next}</NextPartNumberMarker><MaxParts>${l.maxParts}</MaxParts>` +
    `<IsTruncated>${l.truncated}</IsTruncated>` +
    l.parts
      .map(
        (p) =>
          `<Part><PartNumber>${p.number}</PartNumber><LastModified>${p.lastModified}</LastModified>` +
          `<ETag>${esc(p.etag)}</ETag><Size>${p.size}</Size></Part>`,
      )
      .join('') +
    `</ListPartsResult>`
  );
}

function esc(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
