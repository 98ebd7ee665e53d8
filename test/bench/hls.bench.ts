// npm run bench:hls — the six-output HLSv3 ladder (the five HLS video presets 2M … 400k and HLS Audio 64k,
// 2 s segments, one master playlist) on a 60 s 1080p30 input, in one run, interleaved:
//  (a) the engine job through the Elastic Transcoder API: CreateJob → its COMPLETED notification (input from
//      S3, probe, one ffmpeg for the ladder, segments and playlists stored in S3, the master written);
//  (b) the same six renditions as six ffmpeg commands, one after the other, on a local copy: the engine's own
//      per-output command lines (planJob), so both sides encode alike;
//  (c) one hand-written ffmpeg command that decodes once, splits the picture five ways, scales each and
//      writes all six renditions: the floor of any one-machine ladder.
// BENCH_SECONDS shortens the input for a quick check; BENCH_ROUNDS sets the rounds (default 3); BENCH_INPUT
// chooses a camera-like input (default) or a clean synthetic one (see makeInput).
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  ElasticTranscoderClient,
  ReadJobCommand,
  paginateListPipelines,
} from '@aws-sdk/client-elastic-transcoder';
import { createS3Client } from '@mp/storage';
import { PIPELINE_NAME, startStack } from '@mp/stack';
import { hlsMuxer as engineHlsMuxer, planJob } from '../../services/transcoder/src/engine/plan';
import { probeFile } from '../../services/transcoder/src/engine/probe';
import { systemPreset } from '../../services/transcoder/src/engine/system-presets';
import { machine, processTreeCpu, reapedChildrenCpu, redisUrl, scratchDatabase, writeSection } from './lib';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SEGMENT_SECONDS = 2;

const LADDER = [
  ['hls_2m', '1351620000001-200015'],
  ['hls_1_5m', '1351620000001-200025'],
  ['hls_1m', '1351620000001-200035'],
  ['hls_600k', '1351620000001-200045'],
  ['hls_400k', '1351620000001-200055'],
  ['hls_audio_64k', '1351620000001-200071'],
] as const;

// (c), written out by hand: the five HLS video presets' settings (sizes as the engine fits a 16:9 input
// into each preset's box) and HLS Audio 64k. Checked against the engine's plan before the run.
const VIDEO = [
  { size: '1024:576', profile: 'main', level: '3.1', refs: 3, kbps: 1872 },
  { size: '960:540', profile: 'main', level: '3.1', refs: 3, kbps: 1372 },
  { size: '640:360', profile: 'main', level: '3', refs: 3, kbps: 872 },
  { size: '480:270', profile: 'baseline', level: '3', refs: 3, kbps: 472 },
  { size: '400:226', profile: 'baseline', level: '3', refs: 1, kbps: 272 },
];

/** The engine's own hls muxer arguments, with the playlist beside the segments. */
function hlsMuxer(outDir: string): string[] {
  return [
    ...engineHlsMuxer({ seconds: SEGMENT_SECONDS, template: path.join(outDir, 'seg%05d.ts') }),
    path.join(outDir, 'index.m3u8'),
  ];
}

function floorCommand(input: string, outDir: (i: number) => string): string[] {
  const split = `[0:v]split=${VIDEO.length}${VIDEO.map((_, i) => `[s${i}]`).join('')}`;
  const scales = VIDEO.map((v, i) => `[s${i}]scale=${v.size},setsar=1[v${i}]`);
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-i',
    input,
    '-filter_complex',
    [split, ...scales].join(';'),
    ...VIDEO.flatMap((v, i) => [
      '-map',
      `[v${i}]`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      v.profile,
      '-level:v',
      v.level,
      '-refs',
      String(v.refs),
      '-b:v',
      `${v.kbps}k`,
      '-maxrate',
      `${v.kbps}k`,
      '-bufsize',
      `${v.kbps * 9}k`,
      '-g',
      '90',
      '-keyint_min',
      '90',
      '-sc_threshold',
      '0',
      '-pix_fmt',
      'yuv420p',
      '-force_key_frames',
      `expr:gte(t,n_forced*${SEGMENT_SECONDS})`,
      ...hlsMuxer(outDir(i)),
    ]),
    '-map',
    '0:a',
    '-c:a',
    'aac',
    '-profile:a',
    'aac_low',
    '-b:a',
    '64k',
    '-ar',
    '44100',
    '-ac',
    '2',
    ...hlsMuxer(outDir(VIDEO.length)),
  ];
}

/** Runs ffmpeg with the given arguments; its progress output (the engine's argv asks for it) is dropped. */
function ffmpeg(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

/** Every rendition of a local run ended its playlist, with the segments the input's length calls for. */
async function checkLocal(outDirs: string[]): Promise<void> {
  const want = Math.ceil(SECONDS / SEGMENT_SECONDS);
  for (const d of outDirs) {
    const text = await readFile(path.join(d, 'index.m3u8'), 'utf8');
    const segments = text.split('\n').filter((l) => l.endsWith('.ts')).length;
    // The audio may run a few milliseconds past the video: one short last segment more.
    if (!text.includes('#EXT-X-ENDLIST') || segments < want || segments > want + 1)
      throw new Error(`${d}: ${segments} segments, expected ${want}`);
  }
}

const time = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');

/** CPU seconds the whole machine has been busy since boot (/proc/stat: all but idle and iowait). */
async function machineBusy(): Promise<number> {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/**
 * BENCH_INPUT=camera (the default): a moving pattern with sensor-like grain at 40 Mb/s, as a phone or camera
 * records 1080p30, so that decoding costs what it costs on real uploads. BENCH_INPUT=synthetic: the clean
 * pattern at CRF 20 (about 7 Mb/s), whose decoding is almost free next to five encodes.
 */
const INPUT = process.env.BENCH_INPUT === 'synthetic' ? 'synthetic' : 'camera';

async function makeInput(file: string, seconds: number): Promise<void> {
  const video =
    INPUT === 'camera'
      ? ['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds},noise=alls=12:allf=t`]
      : ['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`];
  const rate = INPUT === 'camera' ? ['-b:v', '40M', '-maxrate', '40M', '-bufsize', '80M'] : ['-crf', '20'];
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...video,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    ...rate,
    '-g',
    '60',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ac',
    '2',
    '-shortest',
    file,
  ]);
}

async function main() {
  const loadBefore = os.loadavg();
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-hls-'));
  const db = await scratchDatabase('mp_bench_hls');
  const input = path.join(dir, 'input.mp4');
  const warmup = path.join(dir, 'warmup.mp4');
  await makeInput(input, SECONDS);
  await makeInput(warmup, 2);
  const ffmpegVersion = (await run('ffmpeg', ['-version'])).stdout.split('\n')[0]!.replace(/ Copyright.*/, '');

  // (b): the engine's own command line for each output alone.
  const probe = await probeFile(input);
  const outDirs = (tag: string) => LADDER.map((_, i) => path.join(dir, tag, `o${i}`));
  const plan = (dirs: string[]) =>
    planJob({
      inputPath: input,
      inputFormat: 'mov',
      probe,
      outputs: LADDER.map(([, id], i) => ({
        preset: systemPreset(id, 'us-east-1', '000000000000')!,
        localPath: path.join(dirs[i]!, 'index.m3u8'),
        segments: { seconds: SEGMENT_SECONDS, template: path.join(dirs[i]!, 'seg%05d.ts') },
      })),
    });
  // (c) must encode what the engine encodes: each hand-written rendition's size and rate are in its planned argv.
  const planned = plan(outDirs('check')).outputs.map((o) => o.argv.join(' '));
  VIDEO.forEach((v, i) => {
    if (
      !planned[i]!.includes(`scale=${v.size},setsar=1`) ||
      !planned[i]!.includes(`-b:v ${v.kbps}k`) ||
      !planned[i]!.includes(`-profile:v ${v.profile} -level:v ${v.level} -refs ${v.refs}`)
    ) {
      throw new Error(`the hand-written rendition ${i} differs from the engine's plan: ${planned[i]}`);
    }
  });

  const watcher = await startCompletionWatcher();
  const stack = await startStack({
    extraSubscribers: [watcher.url],
    dataDir: path.join(dir, 'data'),
    databaseUrl: db.url,
    redisUrl: redisUrl(),
    basePort: 20_000 + Math.floor(Math.random() * 30_000),
    queuePrefix: `bench-hls-${process.pid}`,
    bucket: 'media',
    logLevel: 'warn',
    stdio: 'ignore',
    serviceEnv: { 'transcoder-worker': { ET_TMP_DIR: path.join(dir, 'et-tmp') } },
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
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key: 'bench/input.mp4', Body: await readFile(input) }));
    await s3.send(new PutObjectCommand({ Bucket: 'media', Key: 'bench/warmup.mp4', Body: await readFile(warmup) }));

    let n = 0;
    const engineJob = async (key: string) => {
      const res = await et.send(
        new CreateJobCommand({
          PipelineId: pipelineId,
          Input: { Key: key },
          OutputKeyPrefix: `bench/hls-${n++}/`,
          Outputs: LADDER.map(([Key, PresetId]) => ({ Key, PresetId, SegmentDuration: String(SEGMENT_SECONDS) })),
          Playlists: [{ Name: 'index', Format: 'HLSv3', OutputKeys: LADDER.map(([k]) => k) }],
        }),
      );
      const id = res.Job!.Id!;
      // The COMPLETED notification; ReadJob every 5 s as well, should one go missing.
      const poll = setInterval(() => {
        void et.send(new ReadJobCommand({ Id: id })).then(
          ({ Job: j }) => {
            if (j?.Status === 'Complete') watcher.settle(id, 'COMPLETED');
            else if (j?.Status === 'Error' || j?.Status === 'Canceled') watcher.settle(id, 'ERROR');
          },
          () => {},
        );
      }, 5000);
      try {
        const state = await watcher.wait(id);
        if (state !== 'COMPLETED') throw new Error(`job ${id} ended ${state}`);
      } finally {
        clearInterval(poll);
      }
      const { Job: done } = await et.send(new ReadJobCommand({ Id: id }));
      if (done!.Playlists![0]!.Status !== 'Complete')
        throw new Error(`job ${id}: playlist ${done!.Playlists![0]!.Status}`);
      return done!;
    };

    // Warm-up: the worker's first job (its start, the page cache of ffmpeg's libraries).
    await engineJob('bench/warmup.mp4');

    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    // CPU seconds: the machine's busy time during each side (a), (b), (c); the processes' own where they can be read.
    const cpu = {
      a: [] as number[],
      aS3: [] as number[],
      aWorker: [] as number[],
      aRun: [] as number[],
      b: [] as number[],
      bFfmpeg: [] as number[],
      c: [] as number[],
      cFfmpeg: [] as number[],
    };
    const sides = {
      async engine() {
        // ffmpeg runs inside bubblewrap, whose monitor does not reap it, so its CPU does not reach the worker's
        // reaped children: the machine's busy time stands for it, and the worker and the S3 server are read
        // per process.
        const before = await processTreeCpu();
        const busy0 = await machineBusy();
        let job: Awaited<ReturnType<typeof engineJob>> | undefined;
        a.push(await time(async () => (job = await engineJob('bench/input.mp4'))));
        cpu.a.push((await machineBusy()) - busy0);
        cpu.aRun.push((job!.Timing!.FinishTimeMillis! - job!.Timing!.StartTimeMillis!) / 1000);
        let s3Cpu = 0;
        let workerCpu = 0;
        for (const [pid, x] of await processTreeCpu()) {
          const y = before.get(pid);
          if (!y) continue;
          if (x.command.endsWith('transcoder/src/worker.ts')) workerCpu += x.own - y.own;
          else if (x.command.endsWith('s3rver-main.ts')) s3Cpu += x.own + x.reaped - y.own - y.reaped;
        }
        cpu.aS3.push(s3Cpu);
        cpu.aWorker.push(workerCpu);
      },
      async separate() {
        const dirs = outDirs(`b-${b.length}`);
        for (const d of dirs) await mkdir(d, { recursive: true });
        const [before, busy0] = [await reapedChildrenCpu(), await machineBusy()];
        b.push(
          await time(async () => {
            for (const o of plan(dirs).outputs) await ffmpeg(o.argv);
          }),
        );
        cpu.b.push((await machineBusy()) - busy0);
        cpu.bFfmpeg.push((await reapedChildrenCpu()) - before);
        await checkLocal(dirs);
        await rm(path.dirname(dirs[0]!), { recursive: true, force: true });
      },
      async floor() {
        const dirs = outDirs(`c-${c.length}`);
        for (const d of dirs) await mkdir(d, { recursive: true });
        const [before, busy0] = [await reapedChildrenCpu(), await machineBusy()];
        c.push(await time(() => ffmpeg(floorCommand(input, (i) => dirs[i]!))));
        cpu.c.push((await machineBusy()) - busy0);
        cpu.cFfmpeg.push((await reapedChildrenCpu()) - before);
        await checkLocal(dirs);
        await rm(path.dirname(dirs[0]!), { recursive: true, force: true });
      },
    };
    const order: Array<keyof typeof sides> = ['engine', 'separate', 'floor'];
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of [...order.slice(r % 3), ...order.slice(0, r % 3)]) {
        await sides[side]();
        if (process.env.BENCH_DEBUG) console.log(`round ${r + 1}: ${side} done`, { a, b, c });
      }
    }

    const loadAfter = os.loadavg();
    const ab = median(a) / median(b);
    const ac = median(a) / median(c);
    const lines = [
      `input: ${SECONDS} s 1080p30 H.264 (${INPUT === 'camera' ? 'testsrc2 with grain, 40 Mb/s, as cameras record' : 'testsrc2, CRF 20'}) with stereo AAC; outputs: HLS 2M, 1.5M, 1M, 600k, 400k (-200015 … -200055) and HLS Audio 64k (-200071), 2 s segments, one HLSv3 playlist; ${ROUNDS} rounds, the order turning each round`,
      `(a) engine job, CreateJob → its COMPLETED notification: ${median(a).toFixed(1)} s (median of ${list(a)}); of which the worker's run, start to finish: ${median(cpu.aRun).toFixed(1)} s`,
      `(b) six ffmpeg commands in sequence (the engine's per-output command lines): ${median(b).toFixed(1)} s (median of ${list(b)})`,
      `(c) one hand-written ffmpeg, split=5 and a scale per rendition: ${median(c).toFixed(1)} s (median of ${list(c)})`,
      `(a)/(b) = ${ab.toFixed(2)} (target <= 0.6); (a)/(c) = ${ac.toFixed(2)} (target <= 1.15)`,
      `CPU seconds, the machine's busy time during each side: (a) ${median(cpu.a).toFixed(1)}, of which the worker process ${median(cpu.aWorker).toFixed(1)} and the S3 server (s3rver, same cores) ${median(cpu.aS3).toFixed(1)}, the rest ffmpeg, ffprobe and bubblewrap; (b) ${median(cpu.b).toFixed(1)} (ffmpeg ${median(cpu.bFfmpeg).toFixed(1)}); (c) ${median(cpu.c).toFixed(1)} (ffmpeg ${median(cpu.cFfmpeg).toFixed(1)})`,
      `load average (1 min) before the run ${loadBefore[0]!.toFixed(2)}, after it ${loadAfter[0]!.toFixed(2)}`,
    ];
    for (const l of lines) console.log(l);
    const title =
      INPUT === 'camera' ? 'HLS ladder (bench:hls)' : 'HLS ladder, synthetic input (bench:hls, BENCH_INPUT=synthetic)';
    await writeSection(
      title,
      `Machine: ${machine()}, ${ffmpegVersion} (Debian). Run ${new Date().toISOString()}.\n\n${lines.map((l) => `- ${l}`).join('\n')}`,
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
