import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@mp/testbed';
import { readState, startStack, wav, type Stack } from './helpers';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s?.close());

describe('drop-folder process', () => {
  it('stops cleanly on SIGTERM with its state saved', async () => {
    const user = await s.user('grace');
    const f = await s.folders();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: {
        PATH: process.env.PATH,
        DROP_DIR: f.drop,
        OUT_DIR: f.out,
        FAILED_DIR: f.failed,
        GATEWAY_URL: s.gatewayUrl,
        NOTIFIER_URL: s.notifierUrl,
        API_TOKEN: user.token,
        STABLE_MS: '300',
        POLL_MS: '50',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
    const exited = once(child, 'exit');

    await writeFile(path.join(f.drop, 'song.wav'), wav(3000, 20));
    const waiting = await eventually(async () => (await readState(f)).find((r) => r.phase === 'waiting'));
    child.kill('SIGTERM');
    const [code] = await exited;

    expect(code).toBe(0);
    expect(logs).toContain('"msg":"stopped"');
    expect(await readState(f)).toMatchObject([{ name: 'song.wav', phase: 'waiting', mediaId: waiting.mediaId }]);
    expect((await readdir(f.drop)).sort()).toEqual(['.drop-state.json', 'song.wav']);
    expect(JSON.parse(await readFile(f.state, 'utf8'))).toHaveProperty('version', 1);
  });

  it('refuses to start with a token the gateway does not know', async () => {
    const f = await s.folders();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: {
        PATH: process.env.PATH,
        DROP_DIR: f.drop,
        OUT_DIR: f.out,
        FAILED_DIR: f.failed,
        GATEWAY_URL: s.gatewayUrl,
        NOTIFIER_URL: s.notifierUrl,
        API_TOKEN: 'mp_not-a-token-anyone-issued',
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('API_TOKEN refused by the gateway');
  });
});
