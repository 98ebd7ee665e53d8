import { run, type RunOptions } from './run';

// podman on these machines: crun fails on this cgroup setup (runc works), and runc cannot set the default
// rlimits here, so both are lowered (../shared containers notes; README, "npm run test:image").
const RUNTIME = process.env.PODMAN_RUNTIME ?? '/usr/sbin/runc';
const ULIMITS = ['--ulimit', 'nofile=10000:10000', '--ulimit', 'nproc=4096:4096'];

export const podman = (args: readonly string[], o?: RunOptions) => run('podman', ['--runtime', RUNTIME, ...args], o);

export async function imageExists(ref: string): Promise<boolean> {
  return (await podman(['image', 'exists', ref], { allowFailure: true })).code === 0;
}

/** `podman build` of one Dockerfile target; the docker format keeps HEALTHCHECK (OCI images have none). */
export async function build(context: string, target: string, tag: string): Promise<void> {
  await podman(
    ['build', '--format', 'docker', '--network', 'host', ...ULIMITS, '--target', target, '-t', tag, context],
    { inherit: process.env.IMAGE_TEST_VERBOSE === '1' },
  );
}

export interface ContainerSpec {
  name: string;
  image: string;
  command: readonly string[];
  env: Record<string, string>;
  /** A HEALTHCHECK replacing the image's (compose's `healthcheck.test`, CMD form). */
  healthCmd?: readonly string[];
  label: string;
}

const envArgs = (env: Record<string, string>) => Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);

/** Starts a container on the host's network; the health check runs only when asked (no systemd timers). */
export async function start(c: ContainerSpec): Promise<void> {
  await podman([
    'run',
    '--detach',
    '--name',
    c.name,
    '--label',
    c.label,
    '--network',
    'host',
    ...ULIMITS,
    ...(c.healthCmd ? ['--health-cmd', JSON.stringify(c.healthCmd)] : []),
    '--health-interval',
    'disable',
    ...envArgs(c.env),
    c.image,
    ...c.command,
  ]);
}

/** Runs a one-shot container to its end; its output, and an error if it did not exit 0. */
export async function runOnce(c: Omit<ContainerSpec, 'healthCmd'>): Promise<string> {
  const r = await podman(
    [
      'run',
      '--rm',
      '--name',
      c.name,
      '--label',
      c.label,
      '--network',
      'host',
      ...ULIMITS,
      ...envArgs(c.env),
      c.image,
      ...c.command,
    ],
    { allowFailure: true },
  );
  if (r.code !== 0)
    throw new Error(
      `${c.name} exited ${r.code}:\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-30).join('\n')}`,
    );
  return r.stdout;
}

export async function running(name: string): Promise<boolean> {
  const r = await podman(['inspect', '--format', '{{.State.Running}}', name], { allowFailure: true });
  return r.stdout.trim() === 'true';
}

/** Runs the container's HEALTHCHECK until it passes, as Docker would at each interval. */
export async function waitHealthy(name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await podman(['healthcheck', 'run', name], { allowFailure: true });
    if (r.code === 0) return;
    if (!(await running(name))) throw new Error(`${name} exited before it was healthy:\n${await logs(name)}`);
    if (Date.now() > deadline) throw new Error(`${name} not healthy after ${timeoutMs / 1000} s:\n${await logs(name)}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

export async function logs(name: string, lines = 40): Promise<string> {
  const r = await podman(['logs', '--tail', String(lines), name], { allowFailure: true });
  return `${r.stdout}${r.stderr}`.trim();
}

/** Every container with this label, removed (stopped first, with compose's grace period). */
export async function removeContainers(label: string): Promise<void> {
  const r = await podman(['ps', '--all', '--quiet', '--filter', `label=${label}`], { allowFailure: true });
  const ids = r.stdout.split('\n').filter(Boolean);
  if (ids.length) await podman(['rm', '--force', '--time', '10', ...ids], { allowFailure: true });
}

/** The full ids of an image and of every image it was built on that podman still has. */
async function lineage(ref: string): Promise<string[]> {
  const r = await podman(['history', '--no-trunc', '--format', '{{.ID}}', ref], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().replace(/^sha256:/, ''))
    .filter((l) => /^[0-9a-f]{64}$/.test(l));
}

/**
 * Removes the build's untagged intermediate images, those built on `base`, but for the layers under the images
 * in `keep` (the build cache of the slow steps). A later build of the same stages reuses what is kept.
 */
export async function removeIntermediates(base: string, keep: readonly string[]): Promise<number> {
  const baseIds = await lineage(base);
  const kept = new Set([...baseIds, ...(await Promise.all(keep.map(lineage))).flat()]);
  const listed = await podman(
    ['images', '--all', '--no-trunc', '--sort', 'created', '--format', '{{.ID}} {{.Repository}}'],
    {
      allowFailure: true,
    },
  );
  const untagged = listed.stdout
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter(([id, repo]) => id && repo === '<none>')
    .map(([id]) => id!.replace(/^sha256:/, ''))
    .filter((id) => !kept.has(id));
  const ours: string[] = [];
  for (const id of untagged) if ((await lineage(id)).includes(baseIds[0] ?? '-')) ours.push(id);
  // Newest first, so children go before their parents; a second pass takes what the first could not.
  ours.reverse();
  let removed = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (const id of ours) {
      if ((await podman(['rmi', id], { allowFailure: true })).code === 0) removed++;
    }
  }
  return removed;
}
