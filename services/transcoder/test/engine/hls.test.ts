// HLSv3 through the engine: segmented outputs named as the service named them, a master playlist with
// measured bandwidth, keyframes aligned across renditions, and a master a player (ffprobe's hls demuxer)
// opens with every rendition.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv } from '@mp/testbed';
import type { TestEnv } from '@mp/testbed';
import { generateMedia } from '@mp/testbed/media';
import { parseMediaPlaylist } from '../../src/engine/hls';
import { runTranscode } from '../../src/engine/run';
import type { RunTranscodeInput } from '../../src/engine/run';
import { systemPreset } from '../../src/engine/system-presets';
import { putFile, scratchDir } from './helpers';

const execFileAsync = promisify(execFile);
const preset = (id: string) => systemPreset(id, 'us-east-1', '000000000000')!;

let t: TestEnv;
let work: string;
let tmpRoot: string;

beforeAll(async () => {
  t = await createTestEnv();
  work = await scratchDir('hls');
  tmpRoot = await scratchDir('hls-tmp');
  await putFile(
    t.s3Client,
    t.bucket,
    'in/clip.mp4',
    await generateMedia('mp4', path.join(work, 'clip.mp4'), { seconds: 7, width: 640, height: 480 }),
  );
});
afterAll(async () => {
  await t?.cleanup();
});

function job(over: Partial<RunTranscodeInput>): RunTranscodeInput {
  return {
    s3: t.s3Client,
    inputBucket: t.bucket,
    inputKey: 'in/clip.mp4',
    outputBucket: t.bucket,
    outputs: [],
    tmpRoot,
    fanOut: false,
    ...over,
  };
}

async function text(key: string): Promise<string> {
  const res = await t.s3Client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
  return res.Body!.transformToString();
}

async function keysUnder(prefix: string): Promise<Array<{ key: string; size: number }>> {
  const page = await t.s3Client.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size! })).sort((a, b) => a.key.localeCompare(b.key));
}

/** Copies every object under a prefix to a local folder, keeping the key's layout, as a CDN would serve it. */
async function mirror(prefix: string, dir: string): Promise<void> {
  for (const { key } of await keysUnder(prefix)) {
    const file = path.join(dir, key);
    await mkdir(path.dirname(file), { recursive: true });
    const res = await t.s3Client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    await writeFile(
      file,
      Buffer.from(
        await (res.Body as Readable & { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      ),
    );
  }
}

const ladder = (prefix: string) => [
  { key: `${prefix}1m`, preset: preset('1351620000001-200030'), segmentSeconds: 2 },
  { key: `${prefix}400k`, preset: preset('1351620000001-200050'), segmentSeconds: 2 },
  { key: `${prefix}audio`, preset: preset('1351620000001-200071'), segmentSeconds: 2 },
];

describe('an HLSv3 ladder under one master playlist', () => {
  it('stores <Key>NNNNN.ts and <Key>.m3u8 per output and <Name>.m3u8 over them, which a player opens', async () => {
    const result = await runTranscode(
      job({ outputs: ladder('hls/'), playlists: [{ key: 'hls/index.m3u8', outputs: [0, 1, 2], version: 3 }] }),
    );

    expect(result.outputs.map((o) => o.status)).toEqual(['Complete', 'Complete', 'Complete']);
    expect(result.playlists).toEqual([{ status: 'Complete' }]);
    const keys = (await keysUnder('hls/')).map((o) => o.key);
    for (const base of ['hls/1m', 'hls/400k', 'hls/audio']) {
      expect(keys).toContain(`${base}.m3u8`);
      expect(keys).toContain(`${base}00000.ts`);
      expect(keys).toContain(`${base}00003.ts`); // 7 s in 2 s segments: 00000 … 00003
      expect(keys).not.toContain(`${base}00004.ts`);
    }
    expect(keys).toContain('hls/index.m3u8');

    // Every rendition, highest first, with what a player needs to choose.
    const master = await text('hls/index.m3u8');
    const variants = [...master.matchAll(/#EXT-X-STREAM-INF:(.*)\n(.*)/g)].map((m) => ({ attrs: m[1]!, uri: m[2]! }));
    expect(variants.map((v) => v.uri)).toEqual(['1m.m3u8', '400k.m3u8', 'audio.m3u8']);
    expect(variants[0]!.attrs).toMatch(/RESOLUTION=576x432,.*CODECS="avc1\.4d401f,mp4a\.40\.2"/);
    expect(variants[1]!.attrs).toMatch(/RESOLUTION=384x288,.*CODECS="avc1\.42e01e,mp4a\.40\.2"/);
    expect(variants[2]!.attrs).toMatch(/CODECS="mp4a\.40\.2"/);
    expect(variants[2]!.attrs).not.toContain('RESOLUTION');

    // BANDWIDTH is the peak segment bit rate of the stored segments, not the preset's.
    for (const [n, base] of ['hls/1m', 'hls/400k', 'hls/audio'].entries()) {
      const media = parseMediaPlaylist(await text(`${base}.m3u8`));
      const sizes = await keysUnder(base);
      const peak = Math.max(
        ...media.map(
          (s, k) => (sizes.find((o) => o.key === `${base}${String(k).padStart(5, '0')}.ts`)!.size * 8) / s.seconds,
        ),
      );
      expect(Number(/BANDWIDTH=(\d+)/.exec(variants[n]!.attrs)![1])).toBe(Math.ceil(peak));
    }

    // Segments cut at the same instants in the video renditions: a player can switch at any boundary.
    const cuts = await Promise.all(
      ['hls/1m', 'hls/400k'].map(async (b) =>
        parseMediaPlaylist(await text(`${b}.m3u8`)).map((s) => s.seconds.toFixed(2)),
      ),
    );
    expect(cuts[0]).toEqual(cuts[1]);
    expect(cuts[0]).toEqual(['2.00', '2.00', '2.00', '1.00']);

    // A player's view: ffprobe opens the master (its hls demuxer) and finds every rendition's streams.
    const local = path.join(work, 'cdn');
    await mirror('hls/', local);
    const { stdout } = await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_type,width,height:program=program_id',
      '-of',
      'json',
      path.join(local, 'hls/index.m3u8'),
    ]);
    const probed = JSON.parse(stdout) as {
      programs: unknown[];
      streams: Array<{ codec_type: string; width?: number; height?: number }>;
    };
    expect(probed.programs).toHaveLength(3);
    const sizes = probed.streams
      .filter((s) => s.codec_type === 'video')
      .map((s) => `${s.width}x${s.height}`)
      .sort();
    expect([...new Set(sizes)]).toEqual(['384x288', '576x432']);
  });

  it('fails a playlist with 1001 when one of its outputs fails, and still stores the others', async () => {
    // The 400k rendition's first segment name is taken: that output fails with 3002, as the service did.
    await t.s3Client.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'taken/400k00000.ts', Body: 'x' }));
    const result = await runTranscode(
      job({ outputs: ladder('taken/'), playlists: [{ key: 'taken/index.m3u8', outputs: [0, 1, 2], version: 3 }] }),
    );

    expect(result.outputs.map((o) => o.status)).toEqual(['Complete', 'Error', 'Complete']);
    expect(result.outputs[1]!.statusDetail).toMatch(/^3002 [0-9a-f-]{36}: .*key=taken\/400k00000\.ts\.$/);
    expect(result.playlists[0]!.status).toBe('Error');
    expect(result.playlists[0]!.statusDetail).toMatch(
      /^1001 [0-9a-f-]{36}: Amazon Elastic Transcoder could not generate the playlist because it encountered an error with one or more of the playlists dependencies\.$/,
    );
    const keys = (await keysUnder('taken/')).map((o) => o.key);
    expect(keys).not.toContain('taken/index.m3u8');
    expect(keys).toContain('taken/1m.m3u8');
  });
});
