// npm run bench:upload — a generated file streamed through the gateway vs. the same bytes straight to the
// same S3 endpoint with the SDK, in one run. Prints the throughput ratio and the gateway's RSS growth.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Upload } from '@aws-sdk/lib-storage';
import { createUser } from '@mp/contracts';
import { createS3Client, ensureBucket } from '@mp/storage';
import http from 'node:http';
import { benchS3, freePort, machine, makeWavFile, rss, scratchDatabase, startBenchGateway, writeSection } from './lib';

const SIZE = Number(process.env.BENCH_UPLOAD_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PART = Number(process.env.BENCH_PART_BYTES ?? 8 * 1024 ** 2);
const QUEUE = 4;
const ADMIN = 'bench-admin-token-0123456789';
const MiB = 1024 ** 2;

/** POSTs the file as multipart/form-data, streamed from disk with plain http (no web-stream hop). */
function postMultipart(url: string, token: string, file: string, size: number): Promise<number> {
  const boundary = `bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/media`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + size + tail.length,
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(head);
    const src = createReadStream(file, { highWaterMark: MiB });
    src.on('error', reject);
    src.on('end', () => req.end(tail));
    src.pipe(req, { end: false });
  });
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-upload-'));
  const s3cfg = await benchS3();
  const bucket = `bench-upload-${process.pid}`;
  const s3 = createS3Client({ ...s3cfg, region: 'us-east-1', forcePathStyle: true });
  await ensureBucket(s3, bucket);
  const db = await scratchDatabase('mp_bench_upload');
  const port = await freePort();
  const gateway = await startBenchGateway(
    { databaseUrl: db.url, s3: s3cfg, bucket, adminToken: ADMIN, port },
    { MAX_UPLOAD_BYTES: String(SIZE * 2), UPLOAD_PART_BYTES: String(PART), UPLOAD_QUEUE_SIZE: String(QUEUE) },
  );
  const url = `http://127.0.0.1:${port}`;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const file = await makeWavFile(dir, SIZE);
    const bytes = (await stat(file)).size;
    const user = await createUser(url, ADMIN, 'bench');

    // Warm-up: one upload first, so module loading and JIT are not counted as upload memory.
    if ((await postMultipart(url, user.token, file, bytes)) !== 201) throw new Error('warm-up upload failed');
    const rssBefore = rss(gateway.pid!).current;
    let peak = rssBefore;
    sampler = setInterval(() => {
      peak = Math.max(peak, rss(gateway.pid!).current);
    }, 50);

    const viaGateway: number[] = [];
    const direct: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const order = round % 2 === 0 ? ['gateway', 'direct'] : ['direct', 'gateway'];
      for (const side of order) {
        const t0 = performance.now();
        if (side === 'gateway') {
          const status = await postMultipart(url, user.token, file, bytes);
          if (status !== 201) throw new Error(`gateway answered ${status}`);
          viaGateway.push(bytes / ((performance.now() - t0) / 1000));
        } else {
          await new Upload({
            client: s3,
            params: { Bucket: bucket, Key: `direct/${round}`, Body: createReadStream(file, { highWaterMark: MiB }) },
            partSize: PART,
            queueSize: QUEUE,
          }).done();
          direct.push(bytes / ((performance.now() - t0) / 1000));
        }
      }
    }
    clearInterval(sampler);
    peak = Math.max(peak, rss(gateway.pid!).current);

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const g = median(viaGateway);
    const dThr = median(direct);
    const ratio = g / dThr;
    const growth = (peak - rssBefore) / MiB;
    const lines = [
      `file: ${(bytes / MiB).toFixed(0)} MiB, ${ROUNDS} rounds each, alternating order; S3: ${process.env.S3_ENDPOINT ?? 'embedded s3rver (own process)'}; part ${PART / MiB} MiB × ${QUEUE}`,
      `gateway: ${(g / MiB).toFixed(1)} MiB/s (median), direct SDK: ${(dThr / MiB).toFixed(1)} MiB/s (median)`,
      `ratio gateway/direct: ${ratio.toFixed(2)} (target >= 0.85)`,
      `gateway RSS: ${(rssBefore / MiB).toFixed(0)} MiB after a warm-up upload, peak ${(peak / MiB).toFixed(0)} MiB, growth ${growth.toFixed(1)} MiB (target < 100 MiB)`,
    ];
    for (const l of lines) console.log(l);
    await writeSection(
      'Upload (bench:upload)',
      `Machine: ${machine()}. Run ${new Date().toISOString()}.\n\n${lines.map((l) => `- ${l}`).join('\n')}`,
    );
  } finally {
    clearInterval(sampler);
    gateway.kill('SIGTERM');
    await new Promise((r) => gateway.once('exit', r));
    await db.drop();
    s3.destroy();
    await s3cfg.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
