// npm run bench:dispatch — over N uploads (default 200): the time from the gateway's 201 to the engine job
// being created, and from the engine's COMPLETED message to the notify job being queued. p50 and p99 of each.
// The first BENCH_WARMUP uploads (default 20) warm the services up (JIT, connection pools, the pipeline
// cache); they are reported on their own line, not in the percentiles.
// No engine worker runs (BENCH_PAUSE=1: one runs, the pipeline paused), so transcoding does not load the
// machine while dispatch is measured; the COMPLETED messages are the engine's format, signed and delivered
// as SNS does.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateJobCommand,
  ElasticTranscoderClient,
  ReadJobCommand,
  UpdatePipelineStatusCommand,
  paginateListPipelines,
} from '@aws-sdk/client-elastic-transcoder';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { JobName, QueueName, type EtNotification } from '@mp/contracts';
import { createSigningIdentity, signEnvelope } from '@mp/sns';
import { PIPELINE_NAME, startStack } from '@mp/stack';
import { generateMedia } from '@mp/testbed/media';
import { freePort, machine, percentile, redisUrl, scratchDatabase, writeSection } from './lib';

const N = Number(process.env.BENCH_UPLOADS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
// One upload at a time by default: latency, not saturation (BENCH_CONCURRENCY raises it).
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:media-pipeline-events';

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-dispatch-'));
  const db = await scratchDatabase('mp_bench_dispatch');
  // A signer of our own for the COMPLETED deliveries, its certificate served on loopback.
  const identity = await createSigningIdentity({ commonName: 'bench' });
  const certServer = http.createServer((_req, res) => res.end(identity.certificatePem));
  const certPort = await freePort();
  await new Promise<void>((r) => certServer.listen(certPort, '127.0.0.1', r));
  const basePort = 20_000 + Math.floor(Math.random() * 30_000);
  const prefix = `bench-dispatch-${process.pid}`;
  const stack = await startStack({
    dataDir: path.join(dir, 'data'),
    databaseUrl: db.url,
    redisUrl: redisUrl(),
    basePort,
    queuePrefix: prefix,
    bucket: 'media',
    logLevel: 'warn',
    stdio: process.env.BENCH_STDIO === 'inherit' ? 'inherit' : 'ignore',
    engineWorkers: process.env.BENCH_PAUSE ? 1 : 0,
    serviceEnv: { 'sns-ingest': { SNS_ALLOWED_CERT_HOSTS: `127.0.0.1:${basePort + 3},127.0.0.1:${certPort}` } },
  });
  const secrets = JSON.parse(await readFile(path.join(dir, 'data', 'secrets.json'), 'utf8')) as { etSecret: string };
  const et = new ElasticTranscoderClient({
    endpoint: stack.urls.transcoder,
    region: 'us-east-1',
    credentials: { accessKeyId: 'STACKLOCALKEY', secretAccessKey: secrets.etSecret },
  });
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const notify = new Queue(QueueName.notify, { connection: redis, prefix });
  try {
    let pipelineId = '';
    for await (const page of paginateListPipelines({ client: et }, {})) {
      pipelineId ||= page.Pipelines?.find((p) => p.Name === PIPELINE_NAME)?.Id ?? '';
    }
    if (process.env.BENCH_PAUSE) await et.send(new UpdatePipelineStatusCommand({ Id: pipelineId, Status: 'Paused' }));
    const mp3 = await readFile(await generateMedia('mp3', path.join(dir, 'a.mp3'), { seconds: 1 }));
    const auth = { authorization: `Bearer ${stack.user.token}` };

    // 1. 201 → engine job created.
    const created = new Map<string, number>();
    await pool(
      Array.from({ length: WARMUP + N }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const form = new FormData();
        form.append('file', new Blob([mp3]), `track-${i}.mp3`);
        const res = await fetch(`${stack.urls.gateway}/v1/media`, { method: 'POST', headers: auth, body: form });
        const at = Date.now();
        if (res.status !== 201) throw new Error(`upload ${res.status}`);
        created.set(((await res.json()) as { id: string }).id, at);
      },
    );
    const jobs = new Map<string, string>();
    const deadline = Date.now() + 120_000;
    while (jobs.size < WARMUP + N && Date.now() < deadline) {
      const rows = await sql<
        { media_id: string; engine_job_id: string }[]
      >`select media_id, engine_job_id from transcode_jobs where engine_job_id is not null`;
      for (const r of rows) jobs.set(r.media_id, r.engine_job_id);
      await new Promise((r) => setTimeout(r, 200));
    }
    if (jobs.size < WARMUP + N) throw new Error(`only ${jobs.size} of ${WARMUP + N} engine jobs were created`);
    if (process.env.BENCH_DEBUG) {
      const rows =
        await sql`select extract(epoch from (t.created_at - m.created_at))*1000 as intent_ms, extract(epoch from (t.updated_at - t.created_at))*1000 as call_ms from transcode_jobs t join media m on m.id = t.media_id order by m.created_at limit 10`;
      console.log(rows);
      const tq = new Queue(QueueName.transcode, { connection: redis, prefix });
      const done = await tq.getJobs(['completed'], 0, 20);
      console.log(
        done.map((j) => `pickup ${j.processedOn! - j.timestamp} handle ${j.finishedOn! - j.processedOn!}`).join('\n'),
      );
      await tq.close();
      const direct: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        await et.send(
          new CreateJobCommand({
            PipelineId: pipelineId,
            Input: { Key: 'x' },
            OutputKeyPrefix: `debug-${i}/`,
            Outputs: [{ Key: 'a.wav', PresetId: '1351620000001-300300' }],
          }),
        );
        direct.push(performance.now() - t0);
      }
      console.log('CreateJob from the bench, idle:', direct.map((x) => x.toFixed(0)).join(' '));
    }
    const toJob: number[] = [];
    const coldToJob: number[] = [];
    const order = [...created.keys()];
    const warm = new Set(order.slice(0, WARMUP));
    const byIndex: Array<[number, number]> = [];
    await pool([...jobs.entries()], 8, async ([mediaId, jobId]) => {
      const job = await et.send(new ReadJobCommand({ Id: jobId }));
      const ms = job.Job!.Timing!.SubmitTimeMillis! - created.get(mediaId)!;
      (warm.has(mediaId) ? coldToJob : toJob).push(ms);
      byIndex.push([order.indexOf(mediaId), ms]);
    });
    if (process.env.BENCH_DEBUG)
      console.log('slowest (upload #, ms):', JSON.stringify(byIndex.sort((x, y) => y[1] - x[1]).slice(0, 12)));

    // 2. COMPLETED delivered to sns-ingest → notify job queued.
    const rank = new Map(order.map((id, i) => [id, i]));
    const users = (await sql<{ id: string; user_id: string }[]>`select id, user_id from media`).sort(
      (x, y) => rank.get(x.id)! - rank.get(y.id)!,
    );
    const sent = new Map<string, number>();
    await pool(users, CONCURRENCY, async (m) => {
      const message: EtNotification = {
        state: 'COMPLETED',
        version: '2012-09-25',
        jobId: jobs.get(m.id)!,
        pipelineId,
        input: { key: `media/${m.user_id}/${m.id}/a.mp3` },
        outputKeyPrefix: `transcoded/${m.user_id}/${m.id}/`,
        outputs: [{ id: '1', presetId: '1351620000001-300300', key: 'a.wav', status: 'Complete', duration: 1 }],
        userMetadata: { mediaId: m.id, userId: m.user_id },
      };
      const envelope = signEnvelope(
        {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: TOPIC,
          Subject: `Amazon Elastic Transcoder has finished transcoding job ${message.jobId}.`,
          Message: JSON.stringify(message),
          Timestamp: new Date().toISOString(),
          UnsubscribeURL: `http://127.0.0.1:${certPort}/unsubscribe`,
        },
        { privateKeyPem: identity.privateKeyPem, signingCertUrl: `http://127.0.0.1:${certPort}/cert.pem` },
      );
      const t0 = Date.now();
      const res = await fetch(`${stack.urls.snsIngest}/sns`, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': 'Notification',
          'x-amz-sns-topic-arn': TOPIC,
        },
        body: JSON.stringify(envelope),
      });
      if (res.status >= 300) throw new Error(`sns-ingest ${res.status}: ${await res.text()}`);
      sent.set(m.id, t0);
    });
    const toNotify: number[] = [];
    const coldToNotify: number[] = [];
    for (const [mediaId, t0] of sent) {
      const job = await notify.getJob(`media.complete-${mediaId}`);
      if (!job || job.name !== JobName.notify) throw new Error(`no notify job for ${mediaId}`);
      (warm.has(mediaId) ? coldToNotify : toNotify).push(job.timestamp - t0);
    }

    const fmt = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return `p50 ${percentile(s, 50)} ms, p99 ${percentile(s, 99)} ms, max ${s.at(-1)} ms`;
    };
    const lines = [
      `${N} uploads of a 1 s MP3, ${CONCURRENCY} at a time, after ${WARMUP} warm-up uploads; every service in its own process (npm start stack), ${process.env.BENCH_PAUSE ? 'one engine worker, pipeline paused' : 'no engine worker (jobs stay Submitted)'}`,
      `gateway 201 → engine job created: ${fmt(toJob)} (target p99 < 50 ms)`,
      `COMPLETED delivered → notify job queued: ${fmt(toNotify)} (target p99 < 50 ms)`,
      ...(WARMUP
        ? [
            `the ${WARMUP} warm-up uploads, cold services: 201 → engine job ${fmt(coldToJob)}; COMPLETED → notify ${fmt(coldToNotify)}`,
          ]
        : []),
    ];
    for (const l of lines) console.log(l);
    await writeSection(
      'Dispatch and ingest (bench:dispatch)',
      `Machine: ${machine()}. Run ${new Date().toISOString()}.\n\n${lines.map((l) => `- ${l}`).join('\n')}`,
    );
  } finally {
    await notify.close();
    redis.disconnect();
    await sql.end();
    et.destroy();
    await stack.stop();
    certServer.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
