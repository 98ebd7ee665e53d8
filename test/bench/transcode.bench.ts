// npm run bench:transcode — in one run:
//  (a) an engine job with the original system's three outputs on a 3-minute 44.1 kHz stereo MP3, through the
//      Elastic Transcoder API (CreateJob → the COMPLETED notification, by the engine's direct delivery), against
//  (b) the same three outputs made by three ffmpeg commands, one after the other, on a local copy;
//  (c) a batch of 20 such jobs with 2 workers, against the same ffmpeg work run directly two at a time.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  ElasticTranscoderClient,
  ReadJobCommand,
  paginateListPipelines,
} from '@aws-sdk/client-elastic-transcoder';
import { SeedPresets } from '@mp/contracts';
import { createS3Client } from '@mp/storage';
import { PIPELINE_NAME, startStack } from '@mp/stack';
import { planJob } from '../../services/transcoder/src/engine/plan';
import { probeFile } from '../../services/transcoder/src/engine/probe';
import { systemPreset } from '../../services/transcoder/src/engine/system-presets';
import { machine, processTreeCpu, reapedChildrenCpu, redisUrl, scratchDatabase, writeSection } from './lib';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 180);
const BATCH = Number(process.env.BENCH_BATCH ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WORKERS = 2;
const SEED = [SeedPresets.wav, SeedPresets.flac, SeedPresets.aacMp4];
const ext = ['wav', 'flac', 'm4a'];

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-transcode-'));
  const db = await scratchDatabase('mp_bench_transcode');
  const input = path.join(dir, 'input.mp3');
  // Music-like input: pink noise under a tone, so encoders work as they would on real audio.
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `anoisesrc=color=pink:amplitude=0.2:duration=${SECONDS}:sample_rate=44100`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${SECONDS}:sample_rate=44100`,
    '-filter_complex',
    '[0][1]amix=inputs=2,aformat=channel_layouts=stereo',
    '-c:a',
    'libmp3lame',
    '-b:a',
    '192k',
    input,
  ]);

  // Completion is learnt as an Elastic Transcoder client learns it: from the pipeline's notifications (the
  // engine's direct delivery, in the SNS envelope), not by polling, which would load the API it measures.
  const watcher = await startCompletionWatcher();
  const stack = await startStack({
    extraSubscribers: [watcher.url],
    dataDir: path.join(dir, 'data'),
    databaseUrl: db.url,
    redisUrl: redisUrl(),
    basePort: 20_000 + Math.floor(Math.random() * 30_000),
    queuePrefix: `bench-transcode-${process.pid}`,
    bucket: 'media',
    logLevel: 'warn',
    stdio: 'ignore',
    serviceEnv: {
      'transcoder-worker': {
        WORKER_CONCURRENCY: String(WORKERS),
        PIPELINE_CONCURRENCY: String(WORKERS),
        ET_TMP_DIR: path.join(dir, 'et-tmp'),
        ...(process.env.BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS } : {}),
      },
    },
  });
  const secrets = JSON.parse(await readFile(path.join(dir, 'data', 'secrets.json'), 'utf8')) as { etSecret: string };
  const et = new ElasticTranscoderClient({
    endpoint: stack.urls.transcoder,
    region: 'us-east-1',
    credentials: { accessKeyId: 'STACKLOCALKEY', secretAccessKey: secrets.etSecret },
  });
  const s3 = createS3Client({
    endpoint: stack.urls.s3,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  });
  try {
    let pipelineId = '';
    for await (const page of paginateListPipelines({ client: et }, {}))
      pipelineId ||= page.Pipelines?.find((p) => p.Name === PIPELINE_NAME)?.Id ?? '';
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key: 'bench/input.mp3', Body: await readFile(input) }));

    // The direct commands: the engine's own per-output command lines, so both sides encode alike.
    const probe = await probeFile(input);
    const commandsFor = (outDir: string) =>
      planJob({
        inputPath: input,
        probe,
        outputs: SEED.map((id, i) => ({
          preset: systemPreset(id, 'us-east-1', '000000000000')!,
          localPath: path.join(outDir, `out.${ext[i]}`),
        })),
      }).outputs.map((o) => o.argv);
    // The slowest single command of each (b) round: the floor of any engine job, however parallel.
    const slowest: number[] = [];
    const direct = async (tag: string, record = false) => {
      const outDir = path.join(dir, tag);
      await mkdir(outDir, { recursive: true });
      let longest = 0;
      for (const argv of commandsFor(outDir)) longest = Math.max(longest, await time(() => run('ffmpeg', argv)));
      if (record) slowest.push(longest);
      await rm(outDir, { recursive: true, force: true });
    };
    let n = 0;
    const engineJob = async () => {
      const res = await et.send(
        new CreateJobCommand({
          PipelineId: pipelineId,
          Input: { Key: 'bench/input.mp3' },
          OutputKeyPrefix: `bench/out-${n++}/`,
          Outputs: SEED.map((id, i) => ({ Key: `out.${ext[i]}`, PresetId: id })),
        }),
      );
      return res.Job!.Id!;
    };
    // Each job's COMPLETED (or ERROR) notification; ReadJob every 2 s as well, should one go missing.
    const waitDone = async (ids: string[]) => {
      await Promise.all(
        ids.map(async (id) => {
          const poll = setInterval(() => {
            void et.send(new ReadJobCommand({ Id: id })).then(
              ({ Job: j }) => {
                if (j?.Status === 'Complete') watcher.settle(id, 'COMPLETED');
                else if (j?.Status === 'Error' || j?.Status === 'Canceled') watcher.settle(id, 'ERROR');
              },
              () => {},
            );
          }, 2000);
          try {
            const state = await watcher.wait(id);
            if (state !== 'COMPLETED') throw new Error(`job ${id} ended ${state}`);
          } finally {
            clearInterval(poll);
          }
        }),
      );
    };
    const time = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return (performance.now() - t0) / 1000;
    };

    // Warm-up: one engine job (worker start, caches).
    await waitDone([await engineJob()]);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ['engine', 'direct'] : ['direct', 'engine'];
      for (const side of order) {
        if (side === 'engine') {
          let id = '';
          const t0 = Date.now();
          a.push(await time(async () => waitDone([(id = await engineJob())])));
          if (process.env.BENCH_DEBUG) {
            const { Timing } = (await et.send(new ReadJobCommand({ Id: id }))).Job!;
            console.log(
              `engine job: CreateJob sent → submitted ${Timing!.SubmitTimeMillis! - t0} ms, → started ${Timing!.StartTimeMillis! - Timing!.SubmitTimeMillis!} ms, → finished ${Timing!.FinishTimeMillis! - Timing!.StartTimeMillis!} ms, → seen ${Date.now() - Timing!.FinishTimeMillis!} ms`,
            );
          }
        } else b.push(await time(() => direct(`single-${r}`, true)));
      }
    }
    const cpuBefore = await processTreeCpu();
    const benchCpuBefore = process.cpuUsage();
    const batchEngine = await time(async () => {
      const ids: string[] = [];
      for (let i = 0; i < BATCH; i++) ids.push(await engineJob());
      await waitDone(ids);
    });
    // Where the engine's CPU went during the batch, per job, by process (ffmpeg and ffprobe count under the
    // worker that ran them).
    const cpuAfter = await processTreeCpu();
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const cpu = { ffmpeg: 0, worker: 0, s3: 0, others: 0 };
    for (const [pid, x] of cpuAfter) {
      const y = cpuBefore.get(pid);
      if (!y) continue;
      const own = (x.own - y.own) / BATCH;
      const reaped = (x.reaped - y.reaped) / BATCH;
      if (x.command.endsWith('transcoder/src/worker.ts')) {
        cpu.worker += own;
        cpu.ffmpeg += reaped;
      } else if (x.command.endsWith('s3rver-main.ts')) cpu.s3 += own + reaped;
      else cpu.others += own + reaped;
      if (process.env.BENCH_DEBUG && own + reaped >= 0.005)
        console.log(`  ${x.command.padEnd(60)} own ${own.toFixed(3)}  children ${reaped.toFixed(3)}`);
    }
    cpu.others += (benchCpu.user + benchCpu.system) / 1e6 / BATCH;
    const directCpuBefore = await reapedChildrenCpu();
    const batchDirect = await time(async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          while (next < BATCH) await direct(`batch-${next++}`);
        }),
      );
    });

    const directCpu = ((await reapedChildrenCpu()) - directCpuBefore) / BATCH;
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const ratioA = median(a) / median(b);
    const ratioC = batchDirect / batchEngine;
    const lines = [
      `input: ${SECONDS} s 44.1 kHz stereo MP3 (192k); outputs: WAV (-300300), FLAC (-300110), AAC 256k in MP4 (-100110); ${ROUNDS} rounds, alternating order`,
      `(a) engine job, CreateJob → its COMPLETED notification received: ${median(a).toFixed(2)} s (median of ${a.map((x) => x.toFixed(2)).join(', ')})`,
      `(b) three ffmpeg commands in sequence: ${median(b).toFixed(2)} s (median of ${b.map((x) => x.toFixed(2)).join(', ')})`,
      `(a)/(b) = ${ratioA.toFixed(2)} (target <= 0.9)`,
      `(c) ${BATCH} jobs, ${WORKERS} workers: engine ${batchEngine.toFixed(1)} s, direct ffmpeg ${WORKERS} at a time ${batchDirect.toFixed(1)} s; engine throughput / direct = ${ratioC.toFixed(2)} (target >= 0.9)`,
      `floor of (a): the slowest single command alone (AAC) ${median(slowest).toFixed(2)} s = ${(median(slowest) / median(b)).toFixed(2)} of (b)`,
      `CPU seconds per job in (c): direct ffmpeg ${directCpu.toFixed(2)}; engine ${(cpu.ffmpeg + cpu.worker + cpu.s3 + cpu.others).toFixed(2)} = ffmpeg and ffprobe ${cpu.ffmpeg.toFixed(2)} + worker ${cpu.worker.toFixed(2)} + S3 server (s3rver, same cores) ${cpu.s3.toFixed(2)} + API, other services and the bench ${cpu.others.toFixed(2)} (Postgres and Redis not counted)`,
    ];
    for (const l of lines) console.log(l);
    await writeSection(
      'Transcoding (bench:transcode)',
      `Machine: ${machine()}, ffmpeg from Debian. Run ${new Date().toISOString()}.\n\n${lines.map((l) => `- ${l}`).join('\n')}`,
    );
  } finally {
    et.destroy();
    s3.destroy();
    await stack.stop();
    watcher.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** An HTTP subscriber of the pipeline's topic: confirms the subscription, then reports each job's end. */
async function startCompletionWatcher() {
  const ended = new Map<string, string>();
  const waiting = new Map<string, (state: string) => void>();
  const settle = (jobId: string, state: string) => {
    if (ended.has(jobId)) return;
    ended.set(jobId, state);
    waiting.get(jobId)?.(state);
    waiting.delete(jobId);
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200).end();
      const envelope = JSON.parse(body) as { Type: string; SubscribeURL?: string; Message: string };
      if (envelope.Type === 'SubscriptionConfirmation' && envelope.SubscribeURL)
        void fetch(envelope.SubscribeURL).catch(() => {});
      if (envelope.Type !== 'Notification') return;
      const message = JSON.parse(envelope.Message) as { state: string; jobId: string };
      if (message.state === 'COMPLETED' || message.state === 'ERROR') settle(message.jobId, message.state);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    settle,
    wait: (jobId: string) =>
      new Promise<string>((resolve) => (ended.has(jobId) ? resolve(ended.get(jobId)!) : waiting.set(jobId, resolve))),
    close: () => server.close(),
  };
}

await main();
