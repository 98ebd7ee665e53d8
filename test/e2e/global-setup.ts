import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { createSigningIdentity } from '@mp/sns';
import { startStack } from '@mp/stack';
import { freePortRange } from '@mp/testbed/addresses';
import { startRedisCluster } from '@mp/testbed/redis-cluster';

export interface E2eTarget {
  gateway: string;
  notifier: string;
  token: string;
  adminToken: string;
  /** Only with the local stack: its S3 and sns-ingest, and a signer sns-ingest trusts (as it trusts SNS). */
  local?: {
    s3: string;
    snsIngest: string;
    topicArn: string;
    signer: { privateKeyPem: string; certUrl: string };
    /** The stack's own database, to check what a request did or did not write. */
    databaseUrl: string;
    /** The embedded S3's bucket and the key pair the services sign with. */
    s3Auth: {
      bucket: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
    };
    /** The engine's Elastic Transcoder API and a key pair it accepts. */
    transcoder: {
      url: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
    };
  };
}

declare module 'vitest' {
  interface ProvidedContext {
    e2e: E2eTarget;
  }
}

/**
 * The system under test: the URLs in E2E_GATEWAY_URL / E2E_NOTIFIER_URL / E2E_TOKEN / E2E_ADMIN_TOKEN when set
 * (for example a `docker compose up` stack), else the stack of `npm start`, started here on free ports with a
 * database and data folder of its own. With E2E_REDIS_CLUSTER=1 (`npm run test:scale`) that stack runs on a Redis
 * Cluster of its own (3 primaries, REDIS_CLUSTER_NODES), started here and removed after.
 */
export default async function setup(project: TestProject) {
  const env = process.env;
  if (env.E2E_GATEWAY_URL) {
    // hostile.test.ts and s3-events.test.ts look inside the stack (its database, S3, engine, a signer sns-ingest
    // trusts); a stack reached only by its URLs gives none of that, so they are skipped, and say so here.
    console.info(
      `e2e: against ${env.E2E_GATEWAY_URL}; hostile.test.ts and s3-events.test.ts are skipped (they need the stack started here)`,
    );
    project.provide('e2e', {
      gateway: env.E2E_GATEWAY_URL,
      notifier: env.E2E_NOTIFIER_URL ?? env.E2E_GATEWAY_URL.replace(/:\d+$/, ':3001'),
      token: env.E2E_TOKEN ?? '',
      adminToken: env.E2E_ADMIN_TOKEN ?? '',
    });
    return;
  }
  const adminUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `mp_e2e_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mp-e2e-'));
  // A signing identity standing in for SNS, its certificate served on loopback, so tests can deliver the S3
  // events that SNS would (the embedded S3 sends none).
  const identity = await createSigningIdentity({ commonName: 'e2e-sns' });
  const certServer = http.createServer((_req, res) => res.end(identity.certificatePem));
  await new Promise<void>((r) => certServer.listen(0, '127.0.0.1', r));
  const certPort = (certServer.address() as net.AddressInfo).port;
  const basePort = await freePortRange(6);
  const cluster = env.E2E_REDIS_CLUSTER === '1' ? await startRedisCluster() : null;
  const stack = await startStack({
    dataDir,
    databaseUrl: u.toString(),
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    basePort,
    queuePrefix: `e2e-${dbName}`,
    ...(cluster ? { env: { REDIS_CLUSTER_NODES: cluster.nodes.join(',') } } : {}),
    bucket: 'media',
    logLevel: env.E2E_LOG_LEVEL ?? 'warn',
    stdio: env.E2E_LOG_LEVEL ? 'inherit' : 'ignore',
    serviceEnv: {
      'sns-ingest': {
        SNS_ALLOWED_CERT_HOSTS: `127.0.0.1:${basePort + 3},127.0.0.1:${certPort}`,
      },
    },
  }).catch(async (err: unknown) => {
    await cluster?.stop();
    throw err;
  });
  project.provide('e2e', {
    gateway: stack.urls.gateway,
    notifier: stack.urls.notifier,
    token: stack.user.token,
    adminToken: stack.adminToken,
    local: {
      s3: stack.urls.s3,
      snsIngest: stack.urls.snsIngest,
      topicArn: stack.topicArn,
      signer: {
        privateKeyPem: identity.privateKeyPem,
        certUrl: `http://127.0.0.1:${certPort}/cert.pem`,
      },
      databaseUrl: u.toString(),
      s3Auth: {
        bucket: 'media',
        region: stack.env.S3_REGION!,
        accessKeyId: stack.env.AWS_ACCESS_KEY_ID!,
        secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY!,
      },
      transcoder: {
        url: stack.urls.transcoder,
        region: 'us-east-1',
        ...(await engineCredentials(dataDir)),
      },
    },
  });
  return async () => {
    await stack.stop();
    await cluster?.stop();
    certServer.close();
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => {});
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  };
}

/** The key pair the stack gives the engine (tools/stack keeps its secret in the data folder). */
async function engineCredentials(dataDir: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const secrets = JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { etSecret: string };
  return { accessKeyId: 'STACKLOCALKEY', secretAccessKey: secrets.etSecret };
}
