// ffmpeg in the bwrap sandbox sees its scratch directory and the system's programs, nothing else.
import { execFile, spawnSync } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedPresets } from '@mp/contracts';
import { createTestEnv } from '@mp/testbed';
import type { TestEnv } from '@mp/testbed';
import { makeSecretMedia } from '@mp/testbed/hostile';
import { generateMedia } from '@mp/testbed/media';
import { runTranscode } from '../../src/engine/run';
import { bwrapSandbox, detectSandbox, noSandbox } from '../../src/engine/sandbox';
import { systemPreset } from '../../src/engine/system-presets';
import { probeObject, putFile, scratchDir } from './helpers';

const execFileAsync = promisify(execFile);
const hasBwrap = spawnSync('bwrap', ['--version']).status === 0;

describe('the bwrap command line', () => {
  it('binds /usr read-only and the scratch directory read-write, and unshares everything', () => {
    const { file, args } = bwrapSandbox('/usr/bin/bwrap').wrap('ffmpeg', ['-i', '/j/input', '/j/out.wav'], '/j');
    expect(file).toBe('/usr/bin/bwrap');
    const tail = args.slice(args.indexOf('--'));
    expect(tail).toEqual(['--', 'ffmpeg', '-i', '/j/input', '/j/out.wav']);
    const opts = args.slice(0, args.indexOf('--')).join(' ');
    expect(opts).toContain('--ro-bind /usr /usr');
    expect(opts).toContain('--bind /j /j');
    expect(opts).toContain('--unshare-all');
    expect(opts).toContain('--clearenv');
    expect(opts).toContain('--die-with-parent');
    // Nothing else of the host's file system is bound.
    const binds = [...opts.matchAll(/--(?:ro-)?bind(?:-try)? (\S+)/g)].map((m) => m[1]);
    expect(binds).toEqual(['/usr', '/etc/alternatives', '/etc/ld.so.cache', '/j']);
  });

  it('binds an ffmpeg outside /usr read-only, so a custom build runs too', () => {
    const { args } = bwrapSandbox().wrap('/opt/ffmpeg/bin/ffmpeg', [], '/j');
    expect(args.join(' ')).toContain('--ro-bind /opt/ffmpeg/bin/ffmpeg /opt/ffmpeg/bin/ffmpeg');
  });
});

describe('detectSandbox', () => {
  it('runs without one when told to', async () => {
    expect((await detectSandbox('off', { probeCommand: 'ffprobe' })).sandbox).toBe(noSandbox);
  });
  it('refuses to go on without bwrap when bwrap is required, and falls back when it is not', async () => {
    await expect(detectSandbox('bwrap', { bwrapPath: '/nonexistent/bwrap', probeCommand: 'ffprobe' })).rejects.toThrow(
      /bubblewrap does not run here/,
    );
    const auto = await detectSandbox('auto', { bwrapPath: '/nonexistent/bwrap', probeCommand: 'ffprobe' });
    expect(auto.sandbox).toBe(noSandbox);
    expect(auto.reason).toMatch(/bubblewrap does not run here/);
  });
  it.skipIf(!hasBwrap)('finds bwrap where it works', async () => {
    expect((await detectSandbox('auto', { probeCommand: 'ffprobe' })).sandbox.kind).toBe('bwrap');
  });
});

describe.skipIf(!hasBwrap)('ffmpeg in the sandbox', () => {
  let t: TestEnv;
  let work: string;
  let secret: string;

  beforeAll(async () => {
    t = await createTestEnv();
    work = await scratchDir('sandbox');
    secret = await makeSecretMedia(path.join(work, 'secret.ts'));
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const decode = (file: string, dir: string, sandbox = bwrapSandbox()) => {
    const cmd = sandbox.wrap('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], dir);
    return execFileAsync(cmd.file, cmd.args);
  };

  it('reads a file in its directory, and no file outside it', async () => {
    const jobDir = path.join(work, 'job');
    await mkdir(jobDir);
    await copyFile(secret, path.join(jobDir, 'input'));
    await expect(decode(path.join(jobDir, 'input'), jobDir)).resolves.toBeDefined();
    // The same file outside the directory: readable without the sandbox, not within it.
    await expect(decode(secret, jobDir, noSandbox)).resolves.toBeDefined();
    await expect(decode(secret, jobDir)).rejects.toMatchObject({
      stderr: expect.stringContaining('No such file or directory'),
    });
    await expect(decode('/etc/hostname', jobDir)).rejects.toMatchObject({
      stderr: expect.stringContaining('No such file or directory'),
    });
  });

  it('runs a whole job: WAV, FLAC and M4A from an MP3', async () => {
    const song = await generateMedia('mp3', path.join(work, 'song.mp3'), { seconds: 2 });
    await putFile(t.s3Client, t.bucket, 'in/song.mp3', song);
    const preset = (id: string) => systemPreset(id, 'us-east-1', '000000000000')!;
    const outputs = [
      { key: 'out/a.wav', preset: preset(SeedPresets.wav) },
      { key: 'out/a.flac', preset: preset(SeedPresets.flac) },
      { key: 'out/a.m4a', preset: preset(SeedPresets.aacMp4) },
    ];
    const tmpRoot = await scratchDir('sandbox-tmp');
    const result = await runTranscode({
      s3: t.s3Client,
      inputBucket: t.bucket,
      inputKey: 'in/song.mp3',
      outputBucket: t.bucket,
      outputs,
      tmpRoot,
      sandbox: bwrapSandbox(),
      fanOut: { minDurationMillis: 0 },
    });
    expect(result.outputs.map((o) => o.status)).toEqual(['Complete', 'Complete', 'Complete']);
    expect(result.outputs.map((o) => o.durationMillis! > 1900)).toEqual([true, true, true]);
    const { probe } = await probeObject(t.s3Client, t.bucket, 'out/a.flac', work);
    expect(probe.streams[0]!.codec_name).toBe('flac');
  });
});
