import type { AddressInfo } from 'node:net';
import { ElasticTranscoderClient, ReadJobCommand, type Job } from '@aws-sdk/client-elastic-transcoder';
import { eventually, type TestEnv } from '@mp/testbed';
import { loadTranscoderConfig, type TranscoderConfig } from '../src/config';
import { migrate } from '../src/db/client';
import { buildServer, type TranscoderApi } from '../src/server';

export const KEY_ID = 'AKIDTRANSCODERTEST';
export const SECRET = 'transcoder-test-secret-0123456789';
export const ROLE = 'arn:aws:iam::123456789012:role/Elastic_Transcoder_Default_Role';

export interface RunningApi {
  api: TranscoderApi;
  config: TranscoderConfig;
  url: string;
  client: ElasticTranscoderClient;
  clientWith(secret: string): ElasticTranscoderClient;
  close(): Promise<void>;
}

export function configFor(t: TestEnv, extra: Record<string, string> = {}): TranscoderConfig {
  return loadTranscoderConfig({
    ...t.env,
    ET_CREDENTIALS: `${KEY_ID}:${SECRET},OTHERKEY:other-secret`,
    ET_ACCOUNT_ID: '123456789012',
    ...extra,
  });
}

/** Starts the API on a free port against the test bed. */
export async function startApi(t: TestEnv, extra: Record<string, string> = {}): Promise<RunningApi> {
  const first = configFor(t, extra);
  await migrate(first.DATABASE_URL);
  const api = await buildServer(first);
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (api.app.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const config = { ...first, PORT: port, ET_PUBLIC_URL: extra.ET_PUBLIC_URL ?? url };
  const clientWith = (secret: string) =>
    new ElasticTranscoderClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: KEY_ID, secretAccessKey: secret },
      maxAttempts: 1,
    });
  const client = clientWith(SECRET);
  return {
    api,
    config,
    url,
    client,
    clientWith,
    async close() {
      client.destroy();
      await api.close();
    },
  };
}

/** Catches the error an SDK call rejects with. */
export async function errorOf(
  p: Promise<unknown>,
): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number; requestId?: string } }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { name: string };
  }
  throw new Error('expected the call to fail');
}

/** A request signed with the AWS signer, for what the SDK cannot send (bad bodies, raw responses). */
export async function signedFetch(baseUrl: string, method: string, path: string, body?: string): Promise<Response> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const url = new URL(baseUrl + path);
  const signer = new SignatureV4({
    service: 'elastictranscoder',
    region: 'us-east-1',
    sha256: Sha256,
    credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
  });
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { host: url.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });
  return fetch(url, { method, headers: signed.headers, body });
}

export async function putObject(t: TestEnv, key: string, body: Buffer): Promise<void> {
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: body }));
}

export async function getObject(t: TestEnv, key: string): Promise<Buffer> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const res = await t.s3Client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** ReadJob until the job has ended (Complete, Error or Canceled). */
export async function finalJob(client: ElasticTranscoderClient, id: string, timeoutMs = 120_000): Promise<Job> {
  return eventually(
    async () => {
      const { Job } = await client.send(new ReadJobCommand({ Id: id }));
      return ['Complete', 'Error', 'Canceled'].includes(Job!.Status!) ? Job : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
