/**
 * sns-ingest benchmark: signed ET notifications POSTed to one service instance, CONCURRENCY at a time.
 * Prints deliveries/s and latency percentiles for first deliveries and for redeliveries (duplicates).
 * Envelopes are signed before the clock starts; client and service share this process.
 *
 *   npm run bench -w @mp/sns-ingest     (env: DATABASE_URL admin URL, REDIS_URL, MEDIA, CONCURRENCY)
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { Redis } from 'ioredis';
import { EtSubject, type EtNotification, type SnsEnvelope } from '@mp/contracts';
import { createDb, media, outputs, users } from '@mp/db';
import { createSigningIdentity, signEnvelope } from '@mp/sns';
import { deleteKeys, withDatabase } from '@mp/testbed';
import { configSchema } from '../src/config';
import { buildSnsIngest, migrateSnsIngest } from '../src/server';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MEDIA = Number(process.env.MEDIA ?? 500);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:bench';

const id = randomBytes(4).toString('hex');
const dbName = `mp_bench_sns_${id}`;
const prefix = `mpbench-sns-${id}`;

async function main() {
  const admin = createDb(ADMIN_URL, { max: 1 });
  await admin.sql.unsafe(`create database "${dbName}"`);
  const dbUrl = withDatabase(ADMIN_URL, dbName);
  const certServer = await serveCertificate();
  let svc: Awaited<ReturnType<typeof buildSnsIngest>> | undefined;
  const dbh = createDb(dbUrl, { max: 2 });
  try {
    await migrateSnsIngest(dbUrl);
    const cfg = configSchema.parse({
      DATABASE_URL: dbUrl,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      S3_BUCKET: 'unused-by-et-notifications',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      SNS_ALLOWED_TOPIC_ARNS: TOPIC,
      SNS_ALLOWED_CERT_HOSTS: certServer.host,
      SNS_REQUIRE_HTTPS: 'false',
    });
    svc = await buildSnsIngest(cfg);
    await svc.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(svc.app.server.address() as net.AddressInfo).port}/sns`;

    const seeded = await seed(dbh.db, MEDIA);
    const sign = (n: EtNotification) =>
      signEnvelope(
        {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: TOPIC,
          Subject: EtSubject[n.state](n.jobId),
          Message: JSON.stringify(n, null, 2),
          Timestamp: new Date().toISOString(),
        },
        { privateKeyPem: certServer.privateKeyPem, signingCertUrl: certServer.certUrl },
      );
    // Per media: PROGRESSING, two progress figures, COMPLETED; shuffled so media interleave.
    const envelopes = shuffle(
      seeded.flatMap((m) => [
        sign(notification('PROGRESSING', m)),
        sign({ ...notification('PROGRESSING', m), progress: 30 }),
        sign({ ...notification('PROGRESSING', m), progress: 70 }),
        sign(notification('COMPLETED', m)),
      ]),
    );

    await post(url, envelopes.slice(0, 1)); // certificate fetched once, outside the figures
    const first = await run(url, envelopes.slice(1));
    const again = await run(url, envelopes.slice(1));
    const jobs = await countJobs(prefix);

    console.log(`sns-ingest bench: ${MEDIA} media, ${envelopes.length} signed deliveries, concurrency ${CONCURRENCY}`);
    report('first delivery', first);
    report('redelivery (duplicate)', again);
    console.log(`notify jobs queued: ${jobs}`);
  } finally {
    await svc?.close();
    await certServer.close();
    await dbh.close();
    await admin.sql.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.close();
    await deleteKeys(REDIS_URL, `${prefix}:*`);
  }
}

interface Figures {
  count: number;
  ms: number;
  latencies: number[];
  statuses: Record<number, number>;
}

async function run(url: string, envelopes: SnsEnvelope[]): Promise<Figures> {
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < envelopes.length) {
        const envelope = envelopes[next++]!;
        const start = performance.now();
        const [status] = await post(url, [envelope]);
        latencies.push(performance.now() - start);
        statuses[status!] = (statuses[status!] ?? 0) + 1;
      }
    }),
  );
  return { count: envelopes.length, ms: performance.now() - t0, latencies: latencies.sort((a, b) => a - b), statuses };
}

async function post(url: string, envelopes: SnsEnvelope[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const envelope of envelopes) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'x-amz-sns-message-type': envelope.Type,
        'x-amz-sns-message-id': envelope.MessageId,
        'x-amz-sns-topic-arn': envelope.TopicArn,
      },
      body: JSON.stringify(envelope),
    });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

function report(label: string, f: Figures) {
  const pct = (p: number) =>
    f.latencies[Math.min(f.latencies.length - 1, Math.floor((p / 100) * f.latencies.length))]!.toFixed(1);
  console.log(
    `${label}: ${f.count} in ${(f.ms / 1000).toFixed(2)} s = ${((f.count * 1000) / f.ms).toFixed(0)}/s; ` +
      `latency ms p50 ${pct(50)} p95 ${pct(95)} p99 ${pct(99)} max ${pct(100)}; statuses ${JSON.stringify(f.statuses)}`,
  );
}

interface Seeded {
  userId: string;
  mediaId: string;
  prefix: string;
}

async function seed(db: ReturnType<typeof createDb>['db'], count: number): Promise<Seeded[]> {
  const [user] = await db
    .insert(users)
    .values({ name: 'bench', tokenHash: createHash('sha256').update(randomUUID()).digest('hex') })
    .returning();
  const rows: Seeded[] = Array.from({ length: count }, () => {
    const mediaId = randomUUID();
    return { userId: user!.id, mediaId, prefix: `transcoded/${user!.id}/${mediaId}/` };
  });
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    await db.insert(media).values(
      batch.map((m) => ({
        id: m.mediaId,
        userId: m.userId,
        name: 'song.mp3',
        kind: 'audio' as const,
        contentType: 'audio/mpeg',
        size: 1,
        s3Key: `media/${m.userId}/${m.mediaId}/song.mp3`,
        status: 'queued' as const,
      })),
    );
    await db
      .insert(outputs)
      .values(
        batch.flatMap((m) =>
          ['wav', 'flac', 'mp4'].map((f) => ({ mediaId: m.mediaId, format: f, s3Key: `${m.prefix}song.${f}` })),
        ),
      );
  }
  return rows;
}

function notification(state: EtNotification['state'], m: Seeded): EtNotification {
  const done = state === 'COMPLETED';
  return {
    state,
    version: '2012-09-25',
    jobId: `bench-${m.mediaId.slice(0, 8)}`,
    pipelineId: 'bench',
    outputKeyPrefix: m.prefix,
    outputs: ['wav', 'flac', 'mp4'].map((f, i) => ({
      id: String(i + 1),
      presetId: 'p',
      key: `song.${f}`,
      status: done ? ('Complete' as const) : ('Progressing' as const),
      ...(done ? { duration: 3, fileSize: 1000 } : {}),
    })),
    userMetadata: { mediaId: m.mediaId, userId: m.userId },
  };
}

async function serveCertificate() {
  const identity = await createSigningIdentity({ commonName: 'sns.bench' });
  const server = http.createServer((_req, res) => res.writeHead(200).end(identity.certificatePem));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    host,
    certUrl: `http://${host}/SimpleNotificationService-bench.pem`,
    privateKeyPem: identity.privateKeyPem,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function countJobs(keyPrefix: string): Promise<number> {
  const r = new Redis(REDIS_URL);
  try {
    return await r
      .zcard(`${keyPrefix}:notify:completed`)
      .then(async (done) => done + (await r.llen(`${keyPrefix}:notify:wait`)));
  } finally {
    r.disconnect();
  }
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
