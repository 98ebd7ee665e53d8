import { spawn } from 'node:child_process';
import { noSandbox, type Sandbox } from './sandbox';

/** What one ffmpeg run needs of its job: the binary, the sandbox, the directory it may touch, and its abort. */
export interface FfmpegJob {
  ffmpegPath?: string | undefined;
  sandbox?: Sandbox | undefined;
  /** The job's scratch directory: all its ffmpeg runs may touch. */
  scratchDir: string;
  signal?: AbortSignal | undefined;
  /** Receives ffmpeg's stderr when a run fails (a pino logger fits). */
  logger?: { warn(obj: object, msg: string): void } | undefined;
}

/** Spawns ffmpeg (argv, no shell), in the job's sandbox; true on success. Killed when the job is aborted. */
export function runFfmpeg(
  args: string[],
  job: FfmpegJob,
  onTime: (micros: number) => void,
  nice = 0,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (job.signal?.aborted) return reject(job.signal.reason);
    const ffmpeg = job.ffmpegPath ?? 'ffmpeg';
    // nice(1) inside the sandbox, so that the priority is the encoder's own from its first instruction.
    const [command, argv] = nice ? ['nice', ['-n', String(nice), ffmpeg, ...args]] : [ffmpeg, args];
    const cmd = (job.sandbox ?? noSandbox).wrap(command, argv, job.scratchDir);
    const child = spawn(cmd.file, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onAbort = () => child.kill('SIGKILL');
    job.signal?.addEventListener('abort', onAbort, { once: true });
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^out_time_(?:us|ms)=(\d+)/.exec(line);
        if (m) onTime(Number(m[1]));
      }
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (err) => {
      job.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code) => {
      job.signal?.removeEventListener('abort', onAbort);
      if (job.signal?.aborted) return reject(job.signal.reason);
      if (code !== 0) job.logger?.warn({ code, stderr: stderr.trim() }, 'ffmpeg failed');
      resolve(code === 0);
    });
  });
}
