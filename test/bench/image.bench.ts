// npm run bench:image — one 4000×3000 JPEG (a photo-sized file: ffmpeg's testsrc2 with grain), in one run:
//  (a) dispatch's image path as it runs in production: buildDispatch's worker takes a `transcode` job for an image
//      media, downloads the original from S3, makes the half-size copy and the 320 px thumbnail with sharp, uploads
//      both, records them and completes the media in Postgres (the notify outbox and its queue included); timed
//      from queue.add to the worker's `completed` event;
//  (b) the original system's resize Lambda (test/bench/seed_resize.py: boto3 download_file, Pillow's
//      thumbnail to half size and save, boto3 upload_file) with Debian's python3-pil and python3-boto3; timed from
//      the event written to the process to its answer.
// Both against the same S3 (the embedded s3rver in its own process, SigV4, path-style; or S3_ENDPOINT), the
// sides interleaved: BENCH_ROUNDS rounds (default 3) of BENCH_IMAGES images per side (default 8), the side
// that goes first turning each round, after BENCH_WARMUP images per side (default 2) that are not counted.
// Throughput = a round's images / its wall time; the figures are medians over rounds. The ratio is (a)/(b).
//
// Fairness: the Python side is one long-lived process per concurrent slot that does every image of the run, as
// a warm Lambda container does, so interpreter start and the imports of boto3 and Pillow (~0.3 s) are not
// counted, just as dispatch's start is not. (a) does more work per image than (b) (two outputs instead of
// one, and the Postgres record). Neither side gets more cores for one image: sharp runs libvips with one
// thread here (its default on glibc without jemalloc; printed below) and Pillow's resize is single-threaded.
// BENCH_CONCURRENCY (default "1,2") lists how many images are in flight per side: 1 is one image at a time;
// 2 fills this machine's two cores (dispatch's worker with two jobs at once, against two Python processes,
// as two warm Lambdas). CPU seconds per image are counted per side (dispatch runs in this process:
// process.cpuUsage; the Python processes and the S3 server from /proc, read outside the timed sections), so
// the figures can be read apart from the machine's load.
// BENCH_PYTHON names the interpreter (default /usr/bin/python3, Debian's).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { createUser } from '@mp/auth';
import { JobName, QueueName, jobOptions, transcodeJobId } from '@mp/contracts';
import { MediaRepository, createDb, runMigrations } from '@mp/db';
import { createS3Client, ensureBucket, mediaKey } from '@mp/storage';
import { ffmpeg, lavfi } from '@mp/testbed/media';
import { configSchema } from '../../services/transcode-dispatch/src/config';
import { buildDispatch } from '../../services/transcode-dispatch/src/server';
import { benchS3, machine, processTreeCpu, redisUrl, root, scratchDatabase, writeSection } from './lib';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IMAGES = Number(process.env.BENCH_IMAGES ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,2').split(',').map(Number);
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const SEED_SCRIPT = path.join(root, 'test', 'bench', 'seed_resize.py');
const WIDTH = 4000;
const HEIGHT = 3000;
const BUCKET = 'media';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Pillow's and boto3's versions, or a clear word on what to install. */
function pythonVersions(): string {
  const probe = spawnSync(
    PYTHON,
    ['-c', 'import sys, PIL, boto3; print(PIL.__version__, boto3.__version__, sys.version.split()[0])'],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) {
    console.error(
      `bench:image runs the original system's resize with Pillow and boto3, and ${PYTHON} cannot import them.\n` +
        "Install Debian's packages:  apt-get update && apt-get install -y python3-pil python3-boto3\n" +
        '(or set BENCH_PYTHON to a python3 that has Pillow and boto3).\n' +
        (probe.error ? probe.error.message : probe.stderr.trim().split('\n').at(-1)),
    );
    process.exit(1);
  }
  const [pil, boto, py] = probe.stdout.trim().split(' ');
  return `Pillow ${pil}, boto3 ${boto} (Debian's python3-pil, python3-boto3), Python ${py}`;
}

/** One warm "Lambda": the seed's handler in a Python process of its own, one image at a time. */
class SeedProcess {
  private readonly answers: Array<(line: string) => void> = [];
  private constructor(readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (line) => this.answers.shift()?.(line));
    proc.stderr.on('data', (b: Buffer) => process.stderr.write(`[seed_resize.py] ${b.toString()}`));
  }

  static async start(env: Record<string, string>): Promise<SeedProcess> {
    const proc = spawn(PYTHON, [SEED_SCRIPT], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new SeedProcess(proc);
    const ready = await new Promise<string>((resolve, reject) => {
      p.answers.push(resolve);
      proc.once('exit', (code) => reject(new Error(`seed_resize.py exited with code ${code} before it was ready`)));
    });
    if (ready !== 'ready') throw new Error(`seed_resize.py: ${ready}`);
    return p;
  }

  /** The handler's run for one S3 event. */
  async resize(bucket: string, key: string): Promise<void> {
    const answer = new Promise<string>((resolve) => this.answers.push(resolve));
    this.proc.stdin.write(`${JSON.stringify({ bucket, key })}\n`);
    const line = await answer;
    if (!line.startsWith('ok ')) throw new Error(`seed_resize.py: ${line}`);
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin.end();
    await exited;
  }
}

/** Runs `fn` on every item with `n` in flight (slot 0..n-1); the wall time in seconds and each item's in ms. */
async function timed<T>(items: T[], n: number, fn: (x: T, slot: number) => Promise<void>) {
  const each: number[] = [];
  let i = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, slot) => {
      while (i < items.length) {
        const item = items[i++]!;
        const s = performance.now();
        await fn(item, slot);
        each.push(performance.now() - s);
      }
    }),
  );
  return { wall: (performance.now() - t0) / 1000, each };
}

/**
 * CPU seconds so far of the Python processes and of the S3 server. Read outside the timed sections: reading
 * /proc costs this process CPU, which would count against dispatch (it runs here, measured by cpuUsage).
 */
async function childCpu(): Promise<{ seed: number; s3: number }> {
  let seed = 0;
  let s3 = 0;
  for (const p of (await processTreeCpu()).values()) {
    if (p.command.endsWith('seed_resize.py')) seed += p.own + p.reaped;
    else if (p.command.includes('s3rver')) s3 += p.own + p.reaped;
  }
  return { seed, s3 };
}
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main() {
  const python = pythonVersions();
  const loadBefore = os.loadavg();
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-image-'));
  const s3info = await benchS3();
  const db = await scratchDatabase('mp_bench_image');
  const prefix = `bench-image-${process.pid}`;
  const s3 = createS3Client({
    endpoint: s3info.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: s3info.accessKeyId,
    secretAccessKey: s3info.secretAccessKey,
  });
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const transcode = new Queue(QueueName.transcode, { connection: redis, prefix });
  const seeds: SeedProcess[] = [];
  let dispatch: Awaited<ReturnType<typeof buildDispatch>> | undefined;
  const dbh = createDb(db.url, { max: 2 });
  try {
    await runMigrations(db.url);
    // The seed writes its copy to "<bucket>-resized" under the same key.
    await ensureBucket(s3, BUCKET);
    await ensureBucket(s3, `${BUCKET}-resized`);

    const jpegFile = path.join(dir, 'photo.jpg');
    await ffmpeg([
      ...lavfi(`testsrc2=size=${WIDTH}x${HEIGHT}:rate=1,noise=alls=16:allf=u`),
      '-frames:v',
      '1',
      '-q:v',
      '2',
      jpegFile,
    ]);
    const jpeg = await readFile(jpegFile);

    const cfg = configSchema.parse({
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: prefix,
      S3_ENDPOINT: s3info.endpoint,
      S3_BUCKET: BUCKET,
      AWS_ACCESS_KEY_ID: s3info.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3info.secretAccessKey,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      // Images never reach the engine; the endpoint is never called.
      ET_ENDPOINT: 'http://127.0.0.1:9',
      ET_ACCESS_KEY_ID: 'unused',
      ET_SECRET_ACCESS_KEY: 'unused',
    });
    dispatch = await buildDispatch(cfg);
    const waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    dispatch.worker.on('completed', (job, result) => waiting.get(job.id!)?.resolve(result));
    dispatch.worker.on('failed', (job, err) => job && waiting.get(job.id!)?.reject(err));
    const user = await createUser(dbh.db, 'bench');
    const media = new MediaRepository(dbh.db);

    const seedEnv = {
      S3_ENDPOINT: s3info.endpoint,
      AWS_ACCESS_KEY_ID: s3info.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3info.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
    };
    const maxC = Math.max(...CONCURRENCY);
    for (let i = 0; i < maxC; i++) seeds.push(await SeedProcess.start(seedEnv));

    /** An image media for dispatch, its original in S3 (not timed). */
    const newMedia = async () => {
      const id = randomUUID();
      const key = mediaKey(user.id, id, 'photo.jpg');
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: jpeg, ContentType: 'image/jpeg' }));
      await media.insert({
        id,
        userId: user.id,
        name: 'photo.jpg',
        kind: 'image',
        contentType: 'image/jpeg',
        size: jpeg.length,
        s3Key: key,
      });
      return id;
    };
    /** An upload as the seed's trigger saw it (not timed). */
    const newUpload = async () => {
      const key = `upload/original/${randomUUID()}.jpg`;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: jpeg, ContentType: 'image/jpeg' }));
      return key;
    };
    const viaDispatch = async (mediaId: string) => {
      const done = new Promise((resolve, reject) => waiting.set(transcodeJobId(mediaId), { resolve, reject }));
      await transcode.add(JobName.transcode, { mediaId }, jobOptions('transcode', transcodeJobId(mediaId)));
      const result = await done;
      waiting.delete(transcodeJobId(mediaId));
      if (result !== 'image done') throw new Error(`dispatch answered ${String(result)} for ${mediaId}`);
    };
    const viaSeed = (key: string, slot: number) => seeds[slot]!.resize(BUCKET, key);

    type Side = { wall: number[]; each: number[]; cpu: number; s3cpu: number; images: number };
    const results: Array<{ c: number; a: Side; b: Side; ratios: number[] }> = [];
    let lastMedia = '';
    let lastKey = '';
    for (const c of CONCURRENCY) {
      const a: Side = { wall: [], each: [], cpu: 0, s3cpu: 0, images: 0 };
      const b: Side = { wall: [], each: [], cpu: 0, s3cpu: 0, images: 0 };
      const ratios: number[] = [];
      const warmA = await Promise.all(Array.from({ length: WARMUP * c }, newMedia));
      await timed(warmA, c, viaDispatch);
      const warmB = await Promise.all(Array.from({ length: WARMUP * c }, newUpload));
      await timed(warmB, c, viaSeed);
      for (let r = 0; r < ROUNDS; r++) {
        const ids = await Promise.all(Array.from({ length: IMAGES }, newMedia));
        const keys = await Promise.all(Array.from({ length: IMAGES }, newUpload));
        lastMedia = ids.at(-1)!;
        lastKey = keys.at(-1)!;
        const sides = [
          async () => {
            const before = await childCpu();
            const own = ownCpu();
            const t = await timed(ids, c, viaDispatch);
            a.cpu += ownCpu() - own;
            const after = await childCpu();
            a.wall.push(t.wall);
            a.each.push(...t.each);
            a.s3cpu += after.s3 - before.s3;
            a.images += ids.length;
          },
          async () => {
            const before = await childCpu();
            const t = await timed(keys, c, viaSeed);
            const after = await childCpu();
            b.wall.push(t.wall);
            b.each.push(...t.each);
            b.cpu += after.seed - before.seed;
            b.s3cpu += after.s3 - before.s3;
            b.images += keys.length;
          },
        ];
        for (const side of r % 2 ? sides.reverse() : sides) await side();
        ratios.push(IMAGES / a.wall.at(-1)! / (IMAGES / b.wall.at(-1)!));
        console.log(
          `concurrency ${c}, round ${r + 1}: dispatch ${(IMAGES / a.wall.at(-1)!).toFixed(2)} images/s, seed ${(IMAGES / b.wall.at(-1)!).toFixed(2)} images/s`,
        );
      }
      results.push({ c, a, b, ratios });
    }

    // What each side made, checked once: dispatch's two outputs recorded complete, the seed's copy at half size.
    const outs = (await media.outputsOf(lastMedia)).map((o) => `${o.format} ${o.width}×${o.height} ${o.status}`).sort();
    if (outs.join(',') !== 'half 2000×1500 complete,thumb-320 320×240 complete')
      throw new Error(`dispatch recorded ${outs.join(', ')}`);
    if ((await media.get(lastMedia))?.status !== 'complete') throw new Error('the media is not complete');
    const half = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: `transcoded/${user.id}/${lastMedia}/photo-half.jpg` }),
    );
    const halfBytes = Buffer.from(await half.Body!.transformToByteArray());
    const seedCopy = await s3.send(new GetObjectCommand({ Bucket: `${BUCKET}-resized`, Key: lastKey }));
    const seedBytes = Buffer.from(await seedCopy.Body!.transformToByteArray());
    const seedMeta = await sharp(seedBytes).metadata();
    if (seedMeta.width !== WIDTH / 2 || seedMeta.height !== HEIGHT / 2)
      throw new Error(`the seed made ${seedMeta.width}×${seedMeta.height}`);
    const loadAfter = os.loadavg();

    const ms = (x: number) => `${Math.round(x)} ms`;
    const ips = (images: number, wall: number) => images / wall;
    const lines = [
      `input: one ${WIDTH}×${HEIGHT} JPEG, ${(jpeg.length / 1024 ** 2).toFixed(1)} MiB (4:2:0); ${ROUNDS} rounds of ${IMAGES} images per side, the side going first turning each round, after ${WARMUP} uncounted images per side and slot; S3: ${process.env.S3_ENDPOINT ? process.env.S3_ENDPOINT : 'embedded s3rver (own process, SigV4, path-style)'}, Postgres and Redis local`,
      `(a) dispatch: its worker (buildDispatch) on a \`transcode\` job: download, sharp to 2000×1500 and 320×240, two uploads, the outputs and completion recorded in Postgres, notify queued; queue.add → completed`,
      `(b) seed: its Lambda handler in a warm Python process (boto3 download_file, Pillow thumbnail to half size, save, upload_file); event → answer; Python's start not counted`,
      ...results.flatMap(({ c, a, b, ratios }) => {
        const ta = median(a.wall.map((w) => ips(IMAGES, w)));
        const tb = median(b.wall.map((w) => ips(IMAGES, w)));
        return [
          `${c} in flight per side${c === 1 ? '' : ` (dispatch's worker ${c} jobs at once; ${c} Python processes)`}: (a) ${ta.toFixed(2)} images/s, ${ms(median(a.each))} per image; (b) ${tb.toFixed(2)} images/s, ${ms(median(b.each))} per image; (a)/(b) = ${(ta / tb).toFixed(2)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')}; target >= 3)`,
          `  CPU seconds per image at ${c} in flight: (a) ${(a.cpu / a.images).toFixed(3)} + S3 server ${(a.s3cpu / a.images).toFixed(3)}; (b) ${(b.cpu / b.images).toFixed(3)} + S3 server ${(b.s3cpu / b.images).toFixed(3)}`,
        ];
      }),
      `outputs: (a) half-size ${(halfBytes.length / 1024).toFixed(0)} KiB (sharp's JPEG default, quality 80) and a 320 px thumbnail; (b) half-size ${(seedBytes.length / 1024).toFixed(0)} KiB (Pillow's default, quality 75)`,
      `load average (1 min) before the run ${loadBefore[0]!.toFixed(2)}, after it ${loadAfter[0]!.toFixed(2)} (other work on the same ${os.cpus().length} cores)`,
    ];
    for (const l of lines) console.log(l);
    const versions = `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}, ${sharp.concurrency()} libvips thread per image), ${python}`;
    await writeSection(
      'Image resize (bench:image)',
      `Machine: ${machine()}; ${versions}. Run ${new Date().toISOString()}.\n\n${lines.map((l) => (l.startsWith('  ') ? `  - ${l.trim()}` : `- ${l}`)).join('\n')}`,
    );
  } finally {
    for (const p of seeds) await p.stop().catch(() => {});
    await dispatch?.close();
    await transcode.close();
    redis.disconnect();
    s3.destroy();
    await dbh.close();
    await db.drop();
    await s3info.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
