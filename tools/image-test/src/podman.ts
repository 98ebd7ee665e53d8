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

/** Name, label, the host's network, the lowered limits and the environment: what every container here gets. */
const containerArgs = (c: Omit<ContainerSpec, 'healthCmd' | 'image' | 'command'>) => [
  ...['--name', c.name, '--label', c.label, '--network', 'host'],
  ...ULIMITS,
  ...envArgs(c.env),
];

/** Starts a container on the host's network; the health check runs only when asked (no systemd timers). */
export async function start(c: ContainerSpec): Promise<void> {
  await podman([
    'run',
    '--detach',
    ...containerArgs(c),
    ...(c.healthCmd ? ['--health-cmd', JSON.stringify(c.healthCmd)] : []),
    ...['--health-interval', 'disable'],
    c.image,
    ...c.command,
  ]);
}

/** Runs a one-shot container to its end; its output, and an error if it did not exit 0. */
export async function runOnce(c: Omit<ContainerSpec, 'healthCmd'>): Promise<string> {
  const r = await podman(['run', '--rm', ...containerArgs(c), c.image, ...c.command], { allowFailure: true });
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

const bare = (id: string) => id.trim().replace(/^sha256:/, '');

/**
 * Removes the build's untagged intermediate images, those built on `base`, but for the ones under the images in
 * `keep` (the build cache of the slow steps): a later build of the same stages reuses those.
 */
export async function removeIntermediates(base: string, keep: readonly string[]): Promise<number> {
  const listed = await podman(['images', '--all', '--no-trunc', '--format', '{{.ID}} {{.Repository}}'], {
    allowFailure: true,
  });
  const rows = listed.stdout
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter(([id]) => id);
  const ids = [...new Set(rows.map(([id]) => bare(id!)))];
  if (!ids.length) return 0;
  const inspected = await podman(['inspect', '--type', 'image', '--format', '{{.Id}} {{.Parent}}', ...ids], {
    allowFailure: true,
  });
  const parent = new Map(
    inspected.stdout
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([id]) => id)
      .map(([id, p]) => [bare(id!), p ? bare(p) : ''] as const),
  );
  const chain = (id: string) => {
    const out: string[] = [];
    for (let at = id; at && !out.includes(at); at = parent.get(at) ?? '') out.push(at);
    return out;
  };
  const resolve = async (ref: string) =>
    bare((await podman(['image', 'inspect', '--format', '{{.Id}}', ref], { allowFailure: true })).stdout);
  const baseId = await resolve(base);
  const kept = new Set((await Promise.all(keep.map(resolve))).filter(Boolean).flatMap(chain));
  const untagged = new Set(rows.filter(([, repo]) => repo === '<none>').map(([id]) => bare(id!)));
  const ours = [...untagged].filter((id) => !kept.has(id) && chain(id).includes(baseId));
  // Children before their parents.
  ours.sort((a, b) => chain(b).length - chain(a).length);
  let removed = 0;
  for (const id of ours) if ((await podman(['rmi', id], { allowFailure: true })).code === 0) removed++;
  return removed;
}
