import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface ComposeService {
  command?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
  build?: { target?: string };
}

/** The services of docker-compose.yml, each with the command, environment and health check compose gives it. */
export function composeServices(file: string): Record<string, ComposeService> {
  const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  return doc.services;
}

/** `${VAR:-default}` as compose reads it with no .env; valueless entries (passed through when set) left out. */
export function composeEnv(s: ComposeService): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(s.environment ?? {})) {
    if (value === null) continue;
    out[key] = String(value).replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_m, _v: string, def?: string) => def ?? '');
  }
  return out;
}

/** compose's `healthcheck.test` in its CMD form, as podman's --health-cmd takes it. */
export function composeHealthCmd(s: ComposeService): string[] | undefined {
  const test = s.healthcheck?.test;
  if (!test || s.healthcheck?.disable) return undefined;
  if (test[0] !== 'CMD') throw new Error(`only CMD health checks are run here, not ${test[0]}`);
  return test.slice(1);
}

/**
 * The services built from the Dockerfile in rounds, each after the ones it depends on (compose's depends_on,
 * among those services): one-shots (restart "no") run to their end, the others start and turn healthy.
 */
export function startOrder(services: Record<string, ComposeService>): string[][] {
  const built = Object.keys(services).filter((n) => services[n]!.build);
  const done = new Set<string>();
  const rounds: string[][] = [];
  while (done.size < built.length) {
    const ready = built.filter(
      (n) => !done.has(n) && Object.keys(services[n]!.depends_on ?? {}).every((d) => !built.includes(d) || done.has(d)),
    );
    if (!ready.length)
      throw new Error(`docker-compose.yml: a dependency cycle among ${built.filter((n) => !done.has(n)).join(', ')}`);
    rounds.push(ready);
    for (const n of ready) done.add(n);
  }
  return rounds;
}
