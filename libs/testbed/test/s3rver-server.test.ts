import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { createS3Client, ensureBucket } from '@mp/storage';
import { startEmbeddedS3, type EmbeddedS3 } from '../src/s3rver-server';
import { Sha256 } from '../src/s3-auth';

const BUCKET = 'guarded';
let parent: string;
let dataDir: string;
let s3: EmbeddedS3;
let client: S3Client;
const clientWith = (secretAccessKey: string, accessKeyId = s3.accessKeyId) =>
  createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId, secretAccessKey });

beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 's3rver-guard-'));
  dataDir = path.join(parent, 'data');
  s3 = await startEmbeddedS3({ directory: dataDir });
  client = clientWith(s3.secretAccessKey);
  await ensureBucket(client, BUCKET);
  await client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'inside/hello.txt', Body: 'hello', ContentType: 'text/plain' }),
  );
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
  await rm(parent, { recursive: true, force: true });
});

/** Sends exactly this path (no URL normalisation of `..` or `%2e%2e`, as fetch would do). */
function raw(
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(s3.endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: rawPath, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Headers of a request signed by the AWS SDK's own signer (configured for S3), for a path sent as is. */
async function signed(
  method: string,
  rawPath: string,
  opts: { secret?: string; date?: Date; payload?: string; headers?: Record<string, string> } = {},
): Promise<Record<string, string>> {
  const { host } = new URL(s3.endpoint);
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: opts.secret ?? s3.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const [pathname, search = ''] = rawPath.split('?');
  const query = Object.fromEntries(new URLSearchParams(search));
  const req = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: host,
      path: pathname!,
      query,
      headers: { host, 'x-amz-content-sha256': opts.payload ?? 'UNSIGNED-PAYLOAD', ...opts.headers },
    },
    { signingDate: opts.date ?? new Date() },
  );
  return req.headers;
}

const codeOf = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
const messageOf = (xml: string) => /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];

/** Every file under dir, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('the embedded S3 answers only signed requests', () => {
  it('refuses anonymous GET, HEAD, PUT and listing with 403 AccessDenied, and the anonymous PUT writes nothing', async () => {
    for (const [method, p] of [
      ['GET', `/${BUCKET}/inside/hello.txt`],
      ['PUT', `/${BUCKET}/anonymous.txt`],
      ['GET', `/${BUCKET}`],
      ['GET', '/'],
    ] as const) {
      const res = await raw(method, p, {}, method === 'PUT' ? 'written by nobody' : undefined);
      expect(res.status, `${method} ${p}`).toBe(403);
      expect(codeOf(res.text), `${method} ${p}`).toBe('AccessDenied');
    }
    expect((await raw('HEAD', `/${BUCKET}/inside/hello.txt`)).status).toBe(403);
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'anonymous.txt' }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('serves a presigned GET URL, and refuses it tampered with or expired', async () => {
    const command = new GetObjectCommand({
      Bucket: BUCKET,
      Key: 'inside/hello.txt',
      ResponseContentDisposition: `attachment; filename*=UTF-8''hello%20world.txt`,
    });
    const url = await getSignedUrl(client, command, { expiresIn: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hello');
    expect(ok.headers.get('content-disposition')).toBe(`attachment; filename*=UTF-8''hello%20world.txt`);

    const u = new URL(url);
    const sig = u.searchParams.get('X-Amz-Signature')!;
    const flipped = new URL(url);
    flipped.searchParams.set('X-Amz-Signature', `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
    const otherKey = new URL(url);
    otherKey.pathname = `/${BUCKET}/inside/other.txt`;
    const otherDisposition = new URL(url);
    otherDisposition.searchParams.set('response-content-disposition', 'inline');
    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '604800');
    for (const tampered of [flipped, otherKey, otherDisposition, longer]) {
      const res = await fetch(tampered);
      expect(res.status, tampered.toString()).toBe(403);
      expect(codeOf(await res.text()), tampered.toString()).toBe('SignatureDoesNotMatch');
    }
    const unsigned = new URL(url);
    unsigned.search = '';
    expect((await fetch(unsigned)).status).toBe(403);

    const expired = await getSignedUrl(client, command, { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) });
    const res = await fetch(expired);
    const text = await res.text();
    expect(res.status).toBe(403);
    expect([codeOf(text), messageOf(text)]).toEqual(['AccessDenied', 'Request has expired']);
  });

  it('accepts a presigned PUT URL for the object it names only', async () => {
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: 'inside/presigned-put.txt' }), {
      expiresIn: 60,
    });
    expect((await fetch(url, { method: 'PUT', body: 'put by url' })).status).toBe(200);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inside/presigned-put.txt' }));
    expect(await got.Body!.transformToString()).toBe('put by url');
    const elsewhere = new URL(url);
    elsewhere.pathname = `/${BUCKET}/inside/elsewhere.txt`;
    expect((await fetch(elsewhere, { method: 'PUT', body: 'x' })).status).toBe(403);
  });

  it('refuses a header-signed request made with the wrong secret or an unknown key', async () => {
    const wrong = clientWith('not-the-secret');
    await expect(wrong.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inside/hello.txt' }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inside/forged.txt', Body: 'forged' })),
    ).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    wrong.destroy();
    const stranger = clientWith(s3.secretAccessKey, 'SOMEONE-ELSE');
    await expect(
      stranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inside/hello.txt' })),
    ).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    stranger.destroy();
    await expect(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'inside/forged.txt' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('checks the signature of a header-signed request against the request sent: a changed header or path fails', async () => {
    const p = `/${BUCKET}/inside/hello.txt`;
    expect((await raw('GET', p, await signed('GET', p))).status).toBe(200);
    const headers = await signed('GET', p, { headers: { range: 'bytes=0-1' } });
    expect((await raw('GET', p, headers)).text).toBe('he');
    expect(codeOf((await raw('GET', p, { ...headers, range: 'bytes=1-4' })).text)).toBe('SignatureDoesNotMatch');
    expect(codeOf((await raw('GET', `/${BUCKET}/inside/other.txt`, await signed('GET', p))).text)).toBe(
      'SignatureDoesNotMatch',
    );
    expect(codeOf((await raw('GET', p, { ...(await signed('GET', p)), host: 'elsewhere.example:80' })).text)).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('allows 15 minutes of clock skew, as S3 does, and refuses more', async () => {
    const p = `/${BUCKET}/inside/hello.txt`;
    expect((await raw('GET', p, await signed('GET', p, { date: new Date(Date.now() - 10 * 60_000) }))).status).toBe(
      200,
    );
    for (const offset of [-20 * 60_000, 20 * 60_000]) {
      const res = await raw('GET', p, await signed('GET', p, { date: new Date(Date.now() + offset) }));
      expect(res.status).toBe(403);
      expect(codeOf(res.text)).toBe('RequestTimeTooSkewed');
    }
  });

  it('lets a CORS preflight through unsigned, so that the bucket CORS rules answer it', async () => {
    await client.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: ['http://app.example'], AllowedMethods: ['GET'], AllowedHeaders: ['*'] }],
        },
      }),
    );
    const res = await fetch(`${s3.endpoint}/${BUCKET}/inside/hello.txt`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'GET' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET');
    const stranger = await raw('OPTIONS', `/${BUCKET}/inside/hello.txt`, {
      origin: 'http://elsewhere.example',
      'access-control-request-method': 'GET',
    });
    expect([stranger.status, codeOf(stranger.text)]).toEqual([403, 'CORSResponse']);
    // An OPTIONS that is no preflight needs a signature like any other request.
    expect(codeOf((await raw('OPTIONS', `/${BUCKET}/inside/hello.txt`)).text)).toBe('AccessDenied');
  });
});

describe('the embedded S3 keeps every key inside its folder', () => {
  it('refuses keys and buckets with .. segments, however encoded, and writes nothing outside its folder', async () => {
    const before = await filesUnder(parent);
    const paths = [
      `/${BUCKET}/../escaped.txt`,
      `/${BUCKET}/../../escaped.txt`,
      `/${BUCKET}/inside/../../../escaped.txt`,
      `/${BUCKET}/%2e%2e/escaped.txt`,
      `/${BUCKET}/%2E%2E%2F%2E%2E%2Fescaped.txt`,
      `/${BUCKET}/inside%2F..%2F..%2F..%2Fescaped.txt`,
      `/../escaped.txt`,
      `/%2e%2e/escaped.txt`,
    ];
    for (const p of paths) {
      const res = await raw('PUT', p, await signed('PUT', p), 'escaped');
      expect(res.status, p).toBe(400);
      expect(codeOf(res.text), p).toBe('InvalidArgument');
    }
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: '../../escaped.txt', Body: 'escaped' })),
    ).rejects.toMatchObject({
      name: 'InvalidArgument',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'a/../../escaped.txt' })),
    ).rejects.toMatchObject({ name: 'InvalidArgument' });
    await expect(
      client.send(new GetObjectCommand({ Bucket: BUCKET, Key: '../data/guarded/inside/hello.txt' })),
    ).rejects.toMatchObject({ name: 'InvalidArgument' });
    expect(await filesUnder(parent)).toEqual(before);
    expect(before.every((f) => f.startsWith(`data${path.sep}`))).toBe(true);
  });

  it('refuses a copy whose source climbs out of the bucket', async () => {
    await expect(
      client.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: 'inside/copy.txt',
          CopySource: `${BUCKET}/../${BUCKET}/inside/hello.txt`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidArgument' });
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'inside/copy.txt' }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('keeps names that merely contain two dots', async () => {
    for (const key of ['inside/a..b.txt', 'inside/..hidden', 'inside/trailing..']) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(await got.Body!.transformToString()).toBe(key);
    }
  });
});

describe('the SDK client works against it', () => {
  it('puts, gets, lists, copies and deletes', async () => {
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'sdk/with space & ümlaut.txt',
        Body: Buffer.from('bytes'),
        ContentType: 'text/plain',
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/with space & ümlaut.txt' }));
    expect(await got.Body!.transformToString()).toBe('bytes');
    await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'sdk/copy.txt',
        CopySource: encodeURI(`${BUCKET}/sdk/with space & ümlaut.txt`),
      }),
    );
    const list = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sdk/' }));
    expect(list.Contents?.map((o) => o.Key).sort()).toEqual(['sdk/copy.txt', 'sdk/with space & ümlaut.txt']);
    await client.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: 'sdk/copy.txt' }, { Key: 'sdk/with space & ümlaut.txt' }] },
      }),
    );
    expect((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sdk/' }))).KeyCount).toBe(0);
  });

  it('runs a multipart upload, lists and aborts one', async () => {
    const key = 'multipart/big.bin';
    const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const part2 = Buffer.from('tail');
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const e1 = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: part1 }),
    );
    const e2 = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 2, Body: part2 }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([part1, part2]))).toBe(true);

    const pending = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multipart/abandoned.bin' }),
    );
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(listed.Uploads?.map((u) => u.UploadId)).toContain(pending.UploadId);
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'multipart/abandoned.bin', UploadId: pending.UploadId }),
    );
    expect((await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).toEqual([]);
  });

  it('lists the parts of an upload in flight, page by page, with its start time', async () => {
    const key = 'multipart/resumable.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const etags: string[] = [];
    for (const [n, body] of [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('second'), Buffer.from('3')].entries()) {
      const r = await client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: n + 1, Body: body }),
      );
      etags.push(r.ETag!);
    }
    const all = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    expect(all.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 5 * 1024 * 1024, etags[0]],
      [2, 6, etags[1]],
      [3, 1, etags[2]],
    ]);
    expect(all.IsTruncated).toBe(false);
    const first = await client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId, MaxParts: 2 }));
    expect(first.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(first.IsTruncated).toBe(true);
    const rest = await client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumberMarker: first.NextPartNumberMarker }),
    );
    expect(rest.Parts?.map((p) => p.PartNumber)).toEqual([3]);
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'multipart/res' }));
    expect(listed.Uploads?.map((u) => u.Key)).toEqual([key]);
    expect(
      (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'other/' }))).Uploads ?? [],
    ).toEqual([]);
    const initiated = listed.Uploads?.find((u) => u.UploadId === UploadId)?.Initiated;
    expect(Math.abs(Date.now() - initiated!.getTime())).toBeLessThan(60_000);
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId }));
    await expect(client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }))).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
  });
});
