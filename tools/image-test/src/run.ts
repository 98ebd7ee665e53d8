import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Stream the command's output here as it runs (else it is kept and shown only on failure). */
  inherit?: boolean;
  /** A non-zero exit is returned rather than thrown. */
  allowFailure?: boolean;
  input?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; throws with the tail of its output when it fails. */
export function run(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: [
        o.input === undefined ? 'ignore' : 'pipe',
        o.inherit ? 'inherit' : 'pipe',
        o.inherit ? 'inherit' : 'pipe',
      ],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    if (o.input !== undefined) child.stdin?.end(o.input);
    child.once('error', reject);
    child.once('close', (code) => {
      const result = { code: code ?? 1, stdout, stderr };
      if (result.code === 0 || o.allowFailure) return resolve(result);
      const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} exited ${result.code}${tail ? `:\n${tail}` : ''}`));
    });
  });
}

export const log = (msg: string) => process.stdout.write(`[test:image] ${msg}\n`);
