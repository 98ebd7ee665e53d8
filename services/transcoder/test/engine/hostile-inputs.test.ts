// Inputs that try to make ffmpeg read a local file of the worker's: each ends the job with 4000 and a
// reason, writes no output, and a real file behind a playlist in metadata stays unread.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedPresets } from '@mp/contracts';
import { createTestEnv } from '@mp/testbed';
import type { TestEnv } from '@mp/testbed';
import { hostileInputs, m4aWithPlaylistMetadata, makeSecretMedia, peakVolume } from '@mp/testbed/hostile';
import { EngineError, runTranscode } from '../../src/engine/run';
import type { RunTranscodeInput } from '../../src/engine/run';
import { bwrapSandbox, detectSandbox, noSandbox, type Sandbox } from '../../src/engine/sandbox';
import { systemPreset } from '../../src/engine/system-presets';
import { entries, probeObject, putFile, scratchDir } from './helpers';

const preset = (id: string) => systemPreset(id, 'us-east-1', '000000000000')!;
const hasBwrap = (await detectSandbox('auto', { probeCommand: '/usr/bin/true' })).sandbox.kind === 'bwrap';

let t: TestEnv;
let work: string;
let tmpRoot: string;
let secret: string;

beforeAll(async () => {
  t = await createTestEnv();
  work = await scratchDir('hostile');
  tmpRoot = await scratchDir('hostile-tmp');
  secret = await makeSecretMedia(path.join(work, 'secret.ts'));
});

afterAll(async () => {
  await t?.cleanup();
});

function job(over: Partial<RunTranscodeInput>): RunTranscodeInput {
  return {
    s3: t.s3Client,
    inputBucket: t.bucket,
    inputKey: 'in/x',
    outputBucket: t.bucket,
    outputs: [],
    tmpRoot,
    ...over,
  };
}

const audioOutputs = (prefix: string) => [
  { key: `${prefix}/a.wav`, preset: preset(SeedPresets.wav) },
  { key: `${prefix}/a.flac`, preset: preset(SeedPresets.flac) },
  { key: `${prefix}/a.m4a`, preset: preset(SeedPresets.aacMp4) },
];

async function exists(key: string): Promise<boolean> {
  return t.s3Client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

const sandboxes: Array<[string, Sandbox]> = [
  ['without a sandbox', noSandbox],
  ...(hasBwrap ? [['in the bwrap sandbox', bwrapSandbox()] as [string, Sandbox]] : []),
];

describe.each(sandboxes)('an input that names another file, %s', (_label, sandbox) => {
  it.each([
    'an HLS playlist behind a long ID3 tag',
    'an ffconcat script behind a long ID3 tag',
    'an HLS playlist naming a subfile: URL',
    'an HLS playlist naming a concat: URL',
    'a bare HLS playlist',
    'a bare ffconcat script',
    'an SDP session behind a long ID3 tag',
    'a DASH manifest behind a long ID3 tag',
  ])('%s ends in 4000 naming its container, with no output', async (name) => {
    const input = hostileInputs(secret).find((h) => h.name === name)!;
    const key = `in/${sandbox.kind}-${input.demuxer}-${name.length}.mp3`;
    const file = path.join(work, key.replaceAll('/', '_'));
    await writeFile(file, input.bytes);
    await putFile(t.s3Client, t.bucket, key, file);
    const prefix = `out/${sandbox.kind}/${name.replaceAll(/\W+/g, '-')}`;

    const err = await runTranscode(job({ inputKey: key, outputs: audioOutputs(prefix), sandbox, fanOut: false })).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe(4000);
    expect((err as EngineError).message).toBe(
      `Amazon Elastic Transcoder could not interpret the media file: its container (${input.demuxer}) is not an audio or video format the service accepts.`,
    );
    for (const o of audioOutputs(prefix)) expect(await exists(o.key)).toBe(false);
    expect(await entries(tmpRoot)).toEqual([]);
  });
});

describe('a real file with a playlist in its metadata', () => {
  it('is transcoded from its own (silent) audio, never from the file the playlist names', async () => {
    const file = await m4aWithPlaylistMetadata(path.join(work, 'meta.m4a'), secret);
    await putFile(t.s3Client, t.bucket, 'in/meta.m4a', file);

    const result = await runTranscode(
      job({ inputKey: 'in/meta.m4a', outputs: audioOutputs('out/meta'), fanOut: false }),
    );

    expect(result.outputs.map((o) => o.status)).toEqual(['Complete', 'Complete', 'Complete']);
    for (const o of audioOutputs('out/meta')) {
      const { file: got, probe } = await probeObject(t.s3Client, t.bucket, o.key, work);
      expect(Number(probe.format.duration)).toBeLessThan(3); // the secret is 7 s long
      expect(await peakVolume(got)).toBeLessThan(-80); // the secret is a loud tone
    }
  });
});
