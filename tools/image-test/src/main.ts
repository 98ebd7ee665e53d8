// npm run test:image: the project's images, built and run on this machine with podman (README, "npm run
// test:image"). No registry is reachable here, so the Dockerfile's base is a stand-in made locally (src/base.ts);
// the services run with docker-compose.yml's commands, environment and health checks, pointed at this
// machine's Postgres and Redis and an embedded S3 instead of compose's containers; then the end-to-end suite
// runs against them. Everything it made is removed at the end, except the cached base image.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { freePortRange } from '@mp/testbed/addresses';
import { deleteKeys } from '@mp/testbed/redis';
import { startEmbeddedS3, type EmbeddedS3 } from '@mp/testbed/s3';
import { BASE_NAME, ensureBase } from './base';
import { build, logs, podman, removeContainers, removeIntermediates, runOnce, start, waitHealthy } from './podman';
import { log, run } from './run';
import { composeEnv, composeHealthCmd, composeServices, startOrder } from './services';

const CACHE = { deps: 'localhost/mp-image-test/cache:deps', ffmpeg: 'localhost/mp-image-test/cache:ffmpeg' };
const root = fileURLToPath(new URL('../../../', import.meta.url));
const started = Date.now();
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

/** podman, runc and debootstrap from Debian when missing (as .ci/run installs what it needs). */
async function ensureTools(): Promise<void> {
  const missing: string[] = [];
  for (const [bin, pkg] of [
    ['podman', 'podman'],
    ['debootstrap', 'debootstrap'],
    ['/usr/sbin/runc', 'runc'],
  ] as const) {
    const found = await run('sh', ['-c', `command -v ${bin}`], { allowFailure: true });
    if (found.code !== 0) missing.push(pkg);
  }
  if (!missing.length) return;
  log(`installing ${missing.join(', ')} from Debian`);
  await run('apt-get', ['update', '-qq']);
  await run('apt-get', ['install', '-y', '-qq', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

async function main(): Promise<number> {
  await ensureTools();
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { packageManager: string };
  const npmVersion = pkg.packageManager.replace(/^npm@/, '');

  let phase = Date.now();
  const base = await ensureBase(npmVersion);
  log(`base ${BASE_NAME} = ${base.tag} (${base.made ? 'made' : 'cached'}, ${seconds(phase)})`);

  const id = randomBytes(4).toString('hex');
  const label = `mp-image-test=${id}`;
  const images = { app: `localhost/mp-image-test/app:${id}`, 'app-ffmpeg': `localhost/mp-image-test/app-ffmpeg:${id}` };
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const database = `mp_image_${id}`;
  const queuePrefix = `mpimage-${id}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  let s3: EmbeddedS3 | undefined;
  let s3Dir: string | undefined;
  let containersStarted = false;

  try {
    phase = Date.now();
    // The slow stages (npm ci; Debian's ffmpeg) tagged, so their layers stay cached after the run.
    for (const [target, tag] of Object.entries(CACHE)) await build(root, target, tag);
    for (const [target, tag] of Object.entries(images)) {
      log(`building target ${target}`);
      await build(root, target, tag);
    }
    log(`both targets built (${seconds(phase)})`);

    phase = Date.now();
    await admin.unsafe(`create database "${database}"`);
    const u = new URL(adminUrl);
    u.pathname = `/${database}`;
    const databaseUrl = u.toString();
    s3Dir = await mkdtemp(path.join(os.tmpdir(), 'mp-image-s3-'));
    s3 = await startEmbeddedS3({ directory: s3Dir });
    const p = await freePortRange(5);
    const url = (i: number) => `http://127.0.0.1:${p + i}`;
    const ports = {
      'upload-gateway': p,
      notifier: p + 1,
      'sns-ingest': p + 2,
      transcoder: p + 3,
      'transcode-dispatch': p + 4,
    };
    const etKey = 'IMAGETEST';
    const etSecret = randomBytes(24).toString('hex');
    const adminToken = randomBytes(24).toString('hex');

    const compose = composeServices(path.join(root, 'docker-compose.yml'));
    // compose's names on its own network, as this machine's addresses.
    const overrides: Record<string, Record<string, string>> = {
      'sns-ingest': { PORT: String(ports['sns-ingest']), SNS_ALLOWED_CERT_HOSTS: `127.0.0.1:${ports.transcoder}` },
      transcoder: {
        PORT: String(ports.transcoder),
        ET_PUBLIC_URL: url(3),
        ET_CREDENTIALS: `${etKey}:${etSecret}`,
      },
      notifier: { PORT: String(ports.notifier), CORS_ORIGINS: url(0) },
      'upload-gateway': { PORT: String(ports['upload-gateway']), ADMIN_TOKEN: adminToken, NOTIFIER_PUBLIC_URL: url(1) },
      'compose-init': { ET_ENDPOINT: url(3), ET_ACCESS_KEY_ID: etKey, ET_SECRET_ACCESS_KEY: etSecret },
      'transcode-dispatch': {
        PORT: String(ports['transcode-dispatch']),
        ET_ENDPOINT: url(3),
        ET_ACCESS_KEY_ID: etKey,
        ET_SECRET_ACCESS_KEY: etSecret,
      },
    };
    overrides['transcoder-worker'] = overrides.transcoder!;
    const envOf = (name: string): Record<string, string> => {
      const env = composeEnv(compose[name]!);
      const mapped: Record<string, string> = { ...env };
      if (env.DATABASE_URL) mapped.DATABASE_URL = databaseUrl;
      if (env.REDIS_URL) mapped.REDIS_URL = redisUrl;
      if (env.QUEUE_PREFIX) mapped.QUEUE_PREFIX = queuePrefix;
      if (env.HOST) mapped.HOST = '127.0.0.1';
      if (env.S3_ENDPOINT) {
        Object.assign(mapped, {
          S3_ENDPOINT: s3!.endpoint,
          AWS_ACCESS_KEY_ID: s3!.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3!.secretAccessKey,
        });
      }
      if (env.ET_DELIVERY_SUBSCRIPTIONS) {
        mapped.ET_DELIVERY_SUBSCRIPTIONS = env.ET_DELIVERY_SUBSCRIPTIONS.replace(/http:\/\/sns-ingest:\d+/g, url(2));
      }
      Object.assign(mapped, overrides[name]);
      // A compose network name left unmapped would point a service at nothing here.
      const stale = Object.entries(mapped).filter(([, v]) =>
        /(\/\/|@)(postgres|redis|s3\.localhost|transcoder|sns-ingest|notifier|localstack)[:/]/.test(v),
      );
      if (stale.length) throw new Error(`${name}: compose names left in ${stale.map(([k]) => k).join(', ')}`);
      return mapped;
    };
    const spec = (name: string) => {
      const s = compose[name]!;
      const image = s.build?.target === 'app-ffmpeg' ? images['app-ffmpeg'] : images.app;
      const healthCmd = composeHealthCmd(s);
      return {
        name: `mp-image-${id}-${name}`,
        image,
        command: s.command ?? [],
        env: envOf(name),
        label,
        ...(healthCmd ? { healthCmd } : {}),
      };
    };

    containersStarted = true;
    let token: string | undefined;
    for (const round of startOrder(compose)) {
      const oneShots = round.filter((n) => compose[n]!.restart === 'no');
      const services = round.filter((n) => !oneShots.includes(n));
      for (const name of oneShots) {
        log(name);
        const out = await runOnce(spec(name));
        token ??= /token: (\S+)/.exec(out)?.[1];
      }
      for (const name of services) await start(spec(name));
      for (const name of services) {
        await waitHealthy(spec(name).name, 120_000);
        log(`${name} healthy`);
      }
    }
    if (!token) throw new Error('compose-init printed no token');
    log(`every service up from the images (${seconds(phase)})`);

    phase = Date.now();
    const e2e = await run('npx', ['vitest', 'run'], {
      cwd: path.join(root, 'test'),
      inherit: true,
      allowFailure: true,
      env: {
        ...process.env,
        E2E_GATEWAY_URL: url(0),
        E2E_NOTIFIER_URL: url(1),
        E2E_TOKEN: token,
        E2E_ADMIN_TOKEN: adminToken,
      },
    });
    log(`end-to-end suite ${e2e.code === 0 ? 'passed' : 'FAILED'} (${seconds(phase)})`);
    if (e2e.code !== 0) {
      for (const name of Object.keys(compose).filter((n) => !['migrate', 'compose-init'].includes(n))) {
        if (!compose[name]!.build) continue;
        process.stdout.write(`\n--- ${name}\n${await logs(spec(name).name, 30)}\n`);
      }
    }
    return e2e.code;
  } finally {
    phase = Date.now();
    if (containersStarted) await removeContainers(label);
    await podman(['rmi', '--force', ...Object.values(images)], { allowFailure: true });
    await removeIntermediates(BASE_NAME, Object.values(CACHE));
    await s3?.close();
    if (s3Dir) await rm(s3Dir, { recursive: true, force: true });
    await admin.unsafe(`drop database if exists "${database}" with (force)`).catch(() => {});
    await admin.end({ timeout: 5 });
    await deleteKeys(redisUrl, `${queuePrefix}*`).catch(() => {});
    log(`removed containers, images, database and keys (${seconds(phase)}); total ${seconds(started)}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[test:image] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
