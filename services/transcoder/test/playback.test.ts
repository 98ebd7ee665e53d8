// The masters the engine writes, played in a real browser by the players sites use: Debian's Chromium
// driven by playwright-core, hls.js for HLSv3 (it transmuxes MPEG-TS into Media Source Extensions) and
// dash.js for MPEG-DASH, each object fetched from S3 through a presigned URL. Playback must start and advance, and the
// player must move to a lower rendition once its network is throttled.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateJobCommand,
  CreatePipelineCommand,
  ReadJobCommand,
  type CreateJobOutput,
  type Job,
} from '@aws-sdk/client-elastic-transcoder';
import { GetObjectCommand, ListObjectsV2Command, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createTestEnv, eventually, type TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type TranscoderWorker } from '../src/worker.service';
import { ROLE, putObject, startApi, type RunningApi } from './support';

const require = createRequire(import.meta.url);
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const pages = fileURLToPath(new URL('./playback/', import.meta.url));

interface Ladder {
  /** The playlist's Format and its name's extension. */
  format: 'HLSv3' | 'MPEG-DASH';
  master: string;
  /** The player page. */
  page: string;
  /** Key and preset of each output: three video renditions and an audio one, in 2 s segments. */
  outputs: ReadonlyArray<readonly [string, string]>;
  /** The heights the 1280x720 clip comes out at in the three video outputs, from the lowest bit rate up. */
  heights: number[];
  /** Whether a URL fetches media of an output: its segments (HLS) or byte ranges of its one file (DASH). */
  mediaOf(key: string, url: string): boolean;
}

// HLS 2M, 1M and 400k with HLS Audio 64k; MPEG-Dash Video 2.4M, 1.2M and 600k with MPEG-Dash Audio 128k.
const HLS: Ladder = {
  format: 'HLSv3',
  master: 'index.m3u8',
  page: '/hls.html',
  outputs: [
    ['hls_2m', '1351620000001-200015'],
    ['hls_1m', '1351620000001-200035'],
    ['hls_400k', '1351620000001-200055'],
    ['hls_audio_64k', '1351620000001-200071'],
  ],
  heights: [226, 360, 576],
  mediaOf: (key, url) => new RegExp(`/${key}\\d{5}\\.ts\\?`).test(url),
};
const DASH: Ladder = {
  format: 'MPEG-DASH',
  master: 'index.mpd',
  page: '/dash.html',
  outputs: [
    ['dash_2400k', '1351620000001-500030'],
    ['dash_1200k', '1351620000001-500040'],
    ['dash_600k', '1351620000001-500050'],
    ['dash_audio_128k', '1351620000001-500060'],
  ],
  heights: [240, 360, 480],
  mediaOf: (key, url) => url.split('?')[0]!.endsWith(`/${key}`),
};
const CLIP_SECONDS = 20;
const PRESIGN_TTL_SECONDS = 3600;

let t: TestEnv;
let svc: RunningApi;
let worker: TranscoderWorker;
let tmp: string;
let pipelineId: string;
let browser: Browser;
let site: { url: string; close(): Promise<void> };

beforeAll(async () => {
  if (!existsSync(executablePath))
    throw new Error(`No browser at ${executablePath}: install Debian's chromium or set CHROMIUM_PATH`);
  t = await createTestEnv();
  svc = await startApi(t);
  worker = await startWorker(svc.config);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'et-playback-'));
  await putObject(
    t,
    'media/clip.mp4',
    await readFile(
      // Motion and a tone, so that every rendition has real pictures and sound to encode.
      await generateMedia('mp4', path.join(tmp, 'clip.mp4'), {
        seconds: CLIP_SECONDS,
        width: 1280,
        height: 720,
        motion: true,
        sampleRate: 48000,
      }),
    ),
  );
  const { Pipeline } = await svc.client.send(
    new CreatePipelineCommand({ Name: 'playback', InputBucket: t.bucket, OutputBucket: t.bucket, Role: ROLE }),
  );
  pipelineId = Pipeline!.Id!;
  site = await startSite();
  // The page and S3 are two origins: the bucket lets the page's origin read, as a site's bucket would.
  await t.s3Client.send(
    new PutBucketCorsCommand({
      Bucket: t.bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [site.url],
            AllowedMethods: ['GET', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['Content-Length', 'Content-Range', 'ETag'],
            MaxAgeSeconds: 600,
          },
        ],
      },
    }),
  );
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.close();
  await svc?.close();
  await t?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/**
 * The player page and the players' own dist files on 127.0.0.1, from a fixed table: nothing else is
 * served. The objects themselves come from S3.
 */
async function startSite(): Promise<{ url: string; close(): Promise<void> }> {
  const files: Record<string, [string, string]> = {
    '/hls.html': [path.join(pages, 'hls.html'), 'text/html; charset=utf-8'],
    '/dash.html': [path.join(pages, 'dash.html'), 'text/html; charset=utf-8'],
    '/signed.js': [path.join(pages, 'signed.js'), 'text/javascript'],
    '/lib/hls.min.js': [require.resolve('hls.js/dist/hls.min.js'), 'text/javascript'],
    '/lib/dash.all.min.js': [require.resolve('dashjs'), 'text/javascript'],
  };
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) return void res.writeHead(404).end();
    readFile(file[0]).then(
      (body) => res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function finalJob(id: string): Promise<Job> {
  return eventually(
    async () => {
      const { Job } = await svc.client.send(new ReadJobCommand({ Id: id }));
      return ['Complete', 'Error', 'Canceled'].includes(Job!.Status!) ? Job : undefined;
    },
    { timeoutMs: 300_000, intervalMs: 500 },
  );
}

/** Every object under a prefix: its URL without a signature → a presigned GET of it. */
async function presignAll(prefix: string): Promise<Record<string, string>> {
  const page = await t.s3Client.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: prefix }));
  const signed: Record<string, string> = {};
  for (const { Key } of page.Contents ?? []) {
    const url = await getSignedUrl(t.s3Client, new GetObjectCommand({ Bucket: t.bucket, Key: Key! }), {
      expiresIn: PRESIGN_TTL_SECONDS,
    });
    signed[url.split('?')[0]!] = url;
  }
  return signed;
}

/** Opens a player page over a master; PLAYBACK is in the page before any of its scripts run. */
async function openPlayer(
  pagePath: string,
  masterKey: string,
  signed: Record<string, string>,
): Promise<{ page: Page; s3Requests: string[]; close(): Promise<void> }> {
  const master = Object.values(signed).find((u) => u.split('?')[0]!.endsWith(`/${t.bucket}/${masterKey}`));
  if (!master) throw new Error(`no presigned URL for ${masterKey}`);
  const context = await browser.newContext();
  const page = await context.newPage();
  const s3Requests: string[] = [];
  const s3Origin = new URL(master).origin;
  page.on('request', (r) => {
    if (new URL(r.url()).origin === s3Origin) s3Requests.push(r.url());
  });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.addInitScript((init) => Object.assign(globalThis, { PLAYBACK: init }), {
    master,
    signed,
    unsigned: [] as string[],
  });
  await page.goto(`${site.url}${pagePath}`);
  return { page, s3Requests, close: () => context.close() };
}

interface PlayerState {
  levels: Array<{ bitrate: number; width: number; height: number }>;
  switched: Array<{ level: number; at: number }>;
  errors: string[];
}

const playerState = (page: Page) => page.evaluate<PlayerState>('window.PLAYBACK.state');
const currentTime = (page: Page) => page.evaluate<number>('window.PLAYBACK.currentTime()');

/** Waits for a condition on the page's state, failing with what the player reported. */
async function until(
  page: Page,
  what: string,
  ok: (s: PlayerState, time: number) => boolean,
  timeoutMs = 90_000,
): Promise<PlayerState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [s, time] = [await playerState(page), await currentTime(page)];
    if (s.errors.length) throw new Error(`player failed while waiting for ${what}: ${s.errors.join('; ')}`);
    if (ok(s, time)) return s;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: currentTime ${time}, ${JSON.stringify(s)}`);
    await page.waitForTimeout(250);
  }
}

async function transcode(ladder: Ladder, prefix: string): Promise<void> {
  const outputs: CreateJobOutput[] = ladder.outputs.map(([Key, PresetId]) => ({ Key, PresetId, SegmentDuration: '2' }));
  const { Job: created } = await svc.client.send(
    new CreateJobCommand({
      PipelineId: pipelineId,
      Input: { Key: 'media/clip.mp4' },
      OutputKeyPrefix: prefix,
      Outputs: outputs,
      Playlists: [{ Name: 'index', Format: ladder.format, OutputKeys: ladder.outputs.map(([k]) => k) }],
    }),
  );
  const done = await finalJob(created!.Id!);
  expect(done.Status).toBe('Complete');
  expect(done.Playlists![0]!.Status).toBe('Complete');
}

/**
 * Plays the ladder's master from S3: playback from the top rendition past 1.5 s, then, with the network
 * throttled below the two upper renditions (their peak bit rates are in the master) but above the lowest,
 * a switch to a lower rendition, whose media is fetched and played.
 */
async function playAndThrottle(ladder: Ladder, prefix: string): Promise<void> {
  const signed = await presignAll(prefix);
  const player = await openPlayer(ladder.page, `${prefix}${ladder.master}`, signed);
  try {
    const { page } = player;
    const started = await until(page, 'playback past 1.5 s', (s, time) => s.switched.length > 0 && time > 1.5);
    // The three video renditions (an audio-only variant is not one of them), lowest first.
    expect(started.levels.map((l) => l.height)).toEqual(ladder.heights);
    const keyOf = (level: number) => ladder.outputs[2 - level]![0];
    const top = started.levels.length - 1;
    expect(started.switched.every((w) => w.level === top)).toBe(true);

    const before = started.switched.length;
    const lowest = started.levels[0]!.bitrate;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: Math.round((lowest * 1.5) / 8),
      uploadThroughput: -1,
    });
    // The player abandons what it is loading or measures the slower loads, and moves down.
    const throttled = (s: PlayerState) => s.switched.slice(before).find((w) => w.level < top);
    const lower = throttled(await until(page, 'a switch to a lower rendition', (s) => Boolean(throttled(s)), 120_000))!;
    // And it goes on playing the lower rendition.
    await until(page, 'playback after the switch', (_s, time) => time > lower.at + 1, 120_000);

    expect((await playerState(page)).errors).toEqual([]);
    expect(await page.evaluate<string[]>('window.PLAYBACK.unsigned')).toEqual([]);
    // Every request to S3 carried a presigned URL's signature: manifests, playlists and media alike.
    expect(player.s3Requests.filter((u) => !new URL(u).searchParams.has('X-Amz-Signature'))).toEqual([]);
    const mediaOf = (level: number) => player.s3Requests.filter((u) => ladder.mediaOf(keyOf(level), u));
    expect(mediaOf(top).length).toBeGreaterThan(0);
    expect(mediaOf(lower.level).length).toBeGreaterThan(0);
  } finally {
    await player.close();
  }
}

describe('masters from the engine, in Chromium, from S3 through presigned URLs', () => {
  it('HLSv3 with hls.js: plays from the top rendition, and switches to a lower one when the network is throttled', async () => {
    await transcode(HLS, 'hls/playback/');
    await playAndThrottle(HLS, 'hls/playback/');
  }, 600_000);

  it('MPEG-DASH with dash.js: plays from the top representation, and switches to a lower one when the network is throttled', async () => {
    await transcode(DASH, 'dash/playback/');
    await playAndThrottle(DASH, 'dash/playback/');
  }, 600_000);
});
