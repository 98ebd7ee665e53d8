// npm run bench:resumable — a generated file sent through the gateway's tus endpoint with the connection cut at
// about half of it and the upload resumed (HEAD, then PATCH from the offset), vs. the same bytes straight to the
// same S3 endpoint with the SDK, in one run. Prints the bytes sent per byte of file, the throughput ratio and the
// gateway's RSS growth.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createUser } from '@mp/contracts';
import { createS3Client, ensureBucket } from '@mp/storage';
import {
  benchS3,
  freePort,
  machine,
  processTreeCpu,
  makeWavFile,
  rss,
  scratchDatabase,
  startBenchGateway,
  writeSection,
} from './lib';

const SIZE = Number(process.env.BENCH_UPLOAD_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PART = Number(process.env.BENCH_PART_BYTES ?? 8 * 1024 ** 2);
/** Where the connection is cut, as a fraction of the file. */
const CUT = Number(process.env.BENCH_CUT ?? 0.5);
const QUEUE = 4;
const ADMIN = 'bench-admin-token-0123456789';
const MiB = 1024 ** 2;

type Cpu = { bench: number; gateway: number; s3: number };
const diffCpu = (a: Cpu, b: Cpu): Cpu => ({
  bench: b.bench - a.bench,
  gateway: b.gateway - a.gateway,
  s3: b.s3 - a.s3,
});
const fmtCpu = (c: Cpu) => `${c.bench.toFixed(1)} / ${c.gateway.toFixed(1)} / ${c.s3.toFixed(1)}`;

interface Tus {
  base: string;
  token: string;
}

async function tusCreate(t: Tus, size: number): Promise<string> {
  const res = await fetch(`${t.base}/v1/uploads`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${t.token}`,
      'tus-resumable': '1.0.0',
      'upload-length': String(size),
      'upload-metadata': `filename ${Buffer.from('big.wav').toString('base64')}`,
    },
  });
  if (res.status !== 201) throw new Error(`creation answered ${res.status}: ${await res.text()}`);
  return new URL(res.headers.get('location')!, `${t.base}/v1/uploads`).toString();
}

async function tusOffset(t: Tus, url: string): Promise<number> {
  const res = await fetch(url, {
    method: 'HEAD',
    headers: { authorization: `Bearer ${t.token}`, 'tus-resumable': '1.0.0' },
  });
  if (res.status !== 200) throw new Error(`HEAD answered ${res.status}`);
  return Number(res.headers.get('upload-offset'));
}

/**
 * PATCHes the file from `offset`, streamed from disk with plain http. With `cutAt`, the connection is destroyed
 * once that many bytes of the file have been written to it. Resolves with the bytes written and the status.
 */
function tusPatch(
  t: Tus,
  url: string,
  file: string,
  size: number,
  offset: number,
  cutAt?: number,
): Promise<{ sent: number; status: number | null }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = false;
    const finish = (status: number | null) => {
      if (done) return;
      done = true;
      resolve({ sent, status });
    };
    const req = http.request(url, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${t.token}`,
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        'content-length': String(size - offset),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode ?? 0));
    });
    req.on('error', (err) => (cutAt === undefined ? reject(err) : finish(null)));
    req.on('close', () => cutAt !== undefined && finish(null));
    const src = createReadStream(file, { start: offset, highWaterMark: MiB });
    src.on('error', reject);
    src.on('data', (chunk) => {
      const buf = chunk as Buffer;
      if (cutAt !== undefined && sent + buf.length >= cutAt - offset) {
        const part = buf.subarray(0, cutAt - offset - sent);
        sent += part.length;
        src.destroy();
        // The network goes the moment these bytes are out.
        req.write(part, () => req.destroy());
        return;
      }
      sent += buf.length;
      if (!req.write(buf)) {
        src.pause();
        req.once('drain', () => src.resume());
      }
    });
    src.on('end', () => req.end());
  });
}

/** CPU seconds so far of this process, of the gateway's process tree and of everything else it started (S3). */
async function cpuNow(gatewayPid: number): Promise<{ bench: number; gateway: number; s3: number }> {
  const tree = await processTreeCpu();
  let gateway = 0;
  let s3 = 0;
  const underGateway = new Set([gatewayPid, ...(await processTreeCpu(gatewayPid)).keys()]);
  for (const [pid, p] of tree) {
    if (underGateway.has(pid)) gateway += p.own;
    else s3 += p.own;
  }
  const u = process.cpuUsage();
  return { bench: (u.user + u.system) / 1e6, gateway, s3 };
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-resumable-'));
  const s3cfg = await benchS3();
  const bucket = `bench-resumable-${process.pid}`;
  const s3 = createS3Client({ ...s3cfg, region: 'us-east-1', forcePathStyle: true });
  await ensureBucket(s3, bucket);
  const db = await scratchDatabase('mp_bench_resumable');
  const port = await freePort();
  const gateway = await startBenchGateway(
    { databaseUrl: db.url, s3: s3cfg, bucket, adminToken: ADMIN, port },
    { MAX_UPLOAD_BYTES: String(SIZE * 2), UPLOADS_QUOTA_BYTES: String(SIZE * 4), UPLOAD_PART_BYTES: String(PART) },
  );
  const base = `http://127.0.0.1:${port}`;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const file = await makeWavFile(dir, SIZE);
    const bytes = (await stat(file)).size;
    const user = await createUser(base, ADMIN, 'bench');
    const t: Tus = { base, token: user.token };

    // Warm-up: a small resumable upload, cut and resumed, so module loading and JIT are not counted as memory.
    const warm = await makeWavFile(dir, 64 * MiB);
    const warmUrl = await tusCreate(t, 64 * MiB);
    await tusPatch(t, warmUrl, warm, 64 * MiB, 0, 20 * MiB);
    const warmDone = await tusPatch(t, warmUrl, warm, 64 * MiB, await tusOffset(t, warmUrl));
    if (warmDone.status !== 204) throw new Error(`warm-up upload answered ${warmDone.status}`);
    await rm(warm);

    const rssBefore = rss(gateway.pid!).current;
    let peak = rssBefore;
    sampler = setInterval(() => {
      peak = Math.max(peak, rss(gateway.pid!).current);
    }, 50);

    const viaTus: number[] = [];
    const direct: number[] = [];
    const sentRatios: number[] = [];
    const cutOffsets: string[] = [];
    const resumeMs: number[] = [];
    const cpuTus: Cpu[] = [];
    const cpuDirect: Cpu[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const order = round % 2 === 0 ? ['tus', 'direct'] : ['direct', 'tus'];
      for (const side of order) {
        const cpu0 = await cpuNow(gateway.pid!);
        const t0 = performance.now();
        if (side === 'tus') {
          const url = await tusCreate(t, bytes);
          const first = await tusPatch(t, url, file, bytes, 0, Math.round(bytes * CUT));
          const tCut = performance.now();
          const offset = await tusOffset(t, url);
          resumeMs.push(performance.now() - tCut);
          const second = await tusPatch(t, url, file, bytes, offset);
          if (second.status !== 204) throw new Error(`resumed PATCH answered ${second.status}`);
          viaTus.push(bytes / ((performance.now() - t0) / 1000));
          sentRatios.push((first.sent + second.sent) / bytes);
          cutOffsets.push(`${(first.sent / MiB).toFixed(1)} → ${(offset / MiB).toFixed(1)} MiB`);
          cpuTus.push(diffCpu(cpu0, await cpuNow(gateway.pid!)));
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `uploads/${url.split('/').pop()}` }));
        } else {
          const key = `direct/${round}`;
          await new Upload({
            client: s3,
            params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: MiB }) },
            partSize: PART,
            queueSize: QUEUE,
          }).done();
          direct.push(bytes / ((performance.now() - t0) / 1000));
          cpuDirect.push(diffCpu(cpu0, await cpuNow(gateway.pid!)));
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        }
      }
    }
    clearInterval(sampler);
    peak = Math.max(peak, rss(gateway.pid!).current);

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const tusThr = median(viaTus);
    const dThr = median(direct);
    const growth = (peak - rssBefore) / MiB;
    const lines = [
      `file: ${(bytes / MiB).toFixed(0)} MiB, ${ROUNDS} rounds each, alternating order; S3: ${process.env.S3_ENDPOINT ?? 'embedded s3rver (own process)'}; part ${PART / MiB} MiB (tus and SDK), SDK queue ${QUEUE}`,
      `tus: connection cut at ${CUT * 100}% of the file, then HEAD and PATCH from the offset (bytes written before the cut → offset the gateway kept: ${cutOffsets.join(', ')})`,
      `from the cut to the HEAD answer (the cut request's bytes stored, its lock released): ${resumeMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`,
      `bytes sent / file size: ${Math.max(...sentRatios).toFixed(4)} (worst round; target <= 1.02)`,
      `tus with the cut: ${(tusThr / MiB).toFixed(1)} MiB/s (median), direct SDK: ${(dThr / MiB).toFixed(1)} MiB/s (median)`,
      `ratio tus/direct: ${(tusThr / dThr).toFixed(2)} (target >= 0.8)`,
      `CPU seconds per round (bench client / gateway / S3 server): tus ${cpuTus.map(fmtCpu).join(', ')}; direct ${cpuDirect.map(fmtCpu).join(', ')}`,
      `gateway RSS: ${(rssBefore / MiB).toFixed(0)} MiB after a warm-up upload, peak ${(peak / MiB).toFixed(0)} MiB, growth ${growth.toFixed(1)} MiB (target < 100 MiB)`,
    ];
    for (const l of lines) console.log(l);
    await writeSection(
      'Resumable upload (bench:resumable)',
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
