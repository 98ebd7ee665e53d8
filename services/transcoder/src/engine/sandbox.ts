// ffmpeg and ffprobe parse untrusted files. Where the platform allows it, each runs in a bubblewrap
// sandbox that sees only the system's programs and libraries (read-only) and the job's own scratch
// directory: no network, no other process, no other file. The demuxer allow-list (probe.ts) is the first
// defence; this one holds if a demuxer has a bug.

import { execFile } from 'node:child_process';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface Command {
  file: string;
  args: string[];
}

export interface Sandbox {
  readonly kind: 'bwrap' | 'none';
  /** The command line that runs `command args` with access to `dir` only (and below it). */
  wrap(command: string, args: string[], dir: string): Command;
}

export const noSandbox: Sandbox = { kind: 'none', wrap: (file, args) => ({ file, args }) };

/** What the programs need to start: Debian's merged /usr, the library cache and alternatives links. */
const SYSTEM_BINDS = [
  ['--ro-bind', '/usr', '/usr'],
  ['--symlink', 'usr/lib', '/lib'],
  ['--symlink', 'usr/lib64', '/lib64'],
  ['--symlink', 'usr/bin', '/bin'],
  ['--symlink', 'usr/sbin', '/sbin'],
].flat();
const SYSTEM_FILES = ['/etc/alternatives', '/etc/ld.so.cache'];

/** bubblewrap (`bwrap`): the argv is pure, so tests check it as data. */
export function bwrapSandbox(bwrapPath = 'bwrap'): Sandbox {
  return {
    kind: 'bwrap',
    wrap(command, args, dir) {
      const own = path.isAbsolute(command) && !command.startsWith('/usr/') ? ['--ro-bind', command, command] : [];
      return {
        file: bwrapPath,
        args: [
          ...SYSTEM_BINDS,
          ...SYSTEM_FILES.flatMap((f) => ['--ro-bind-try', f, f]),
          ...own,
          ...[
            ['--dev', '/dev'],
            ['--proc', '/proc'],
            ['--bind', dir, dir],
            ['--chdir', dir],
            ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv'],
            ['--setenv', 'PATH', '/usr/bin:/bin'],
          ].flat(),
          '--',
          command,
          ...args,
        ],
      };
    },
  };
}

export type SandboxMode = 'auto' | 'bwrap' | 'off';

/**
 * The sandbox for this machine: `bwrap` when asked for and working (else an error), `auto` uses it when it
 * works (a container without user namespaces may refuse it), `off` runs the programs as they are.
 * Checked by running `probe -version` inside it.
 */
export async function detectSandbox(
  mode: SandboxMode,
  opts: { bwrapPath?: string; probeCommand: string },
): Promise<{ sandbox: Sandbox; reason?: string }> {
  if (mode === 'off') return { sandbox: noSandbox, reason: 'FFMPEG_SANDBOX=off' };
  const candidate = bwrapSandbox(opts.bwrapPath ?? 'bwrap');
  const dir = await mkdtemp(path.join(tmpdir(), 'et-sandbox-check-'));
  try {
    await access(dir, constants.W_OK);
    const { file, args } = candidate.wrap(opts.probeCommand, ['-version'], dir);
    await execFileAsync(file, args, { timeout: 10_000 });
    return { sandbox: candidate };
  } catch (err) {
    const reason = `bubblewrap does not run here: ${firstLine(err)}`;
    if (mode === 'bwrap') throw new Error(reason, { cause: err });
    return { sandbox: noSandbox, reason };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0]!.slice(0, 200);
}
