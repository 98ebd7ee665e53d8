import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { closeSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { ensurePipeline } from '@mp/compose-init/src/pipeline';
import { repoRoot } from '@mp/stack';
import { createS3Client, ensureBucket } from '@mp/storage';
import type { NetHost, TestNetwork } from './netns';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:media-pipeline-events`;
const PIPELINE = 'media-pipeline';
const BUCKET = 'media';
const ET_KEY = 'HOSTSTESTKEY';
const PORTS = { gateway: 3000, notifier: 3001, snsIngest: 3002, transcoder: 3003, dispatch: 3004 };
const C_PORTS = { postgres: 5432, redis: 6379, s3: 9000 };

/** One process of the system, running inside one host's namespace. */
export interface HostProcess {
  host: NetHost['name'];
  name: string;
  proc: ChildProcess;
  /** The environment it was given (its whole environment: nothing is inherited from this process). */
  env: Record<string, string>;
  logFile: string;
  exited: Promise<void>;
}

/** The URLs of one application host (a or b): what its services answer on. */
export interface AppHost {
  host: NetHost;
  urls: { gateway: string; notifier: string; snsIngest: string; transcoder: string; dispatch: string };
  /** Its own folder: TMPDIR, the engine's scratch, its logs. No other host is given a path inside it. */
  dir: string;
  startWorker(): Promise<HostProcess>;
}

export interface HostsSystem {
  net: TestNetwork;
  a: AppHost;
  b: AppHost;
  databaseUrl: string;
  redisUrl: string;
  s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };
  adminToken: string;
  processes: HostProcess[];
  stop(): Promise<void>;
}

/**
 * Host c runs a Postgres cluster of its own (initdb in a temporary folder, listening on c's address only), a
 * redis-server and the embedded S3, each bound to c's address. Hosts a and b each run the gateway, the dispatcher,
 * the engine API, sns-ingest and the notifier, bound to their own address and given only c's address for the
 * state; engine workers start on demand (startWorker), so a test decides which host takes a job.
 */
export async function startHostsSystem(net: TestNetwork, opts: { leaseMs: number }): Promise<HostsSystem> {
  const root = await mkdtemp(path.join(tmpdir(), 'mp-hosts-'));
  await chmod(root, 0o755);
  const processes: HostProcess[] = [];
  // Should this process end without stop() (a crash, a runner that exits first), nothing is left running.
  const killAll = () => {
    for (const p of processes) signalGroup(p, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  const stop = async () => {
    for (const p of [...processes].reverse()) await stopProcess(p);
    await rm(root, { recursive: true, force: true });
    process.off('exit', killAll);
  };
  const c = net.hosts.c;
  const etSecret = randomBytes(24).toString('base64url');
  const adminToken = randomBytes(24).toString('base64url');
  try {
    const cDir = path.join(root, 'c');
    await mkdir(path.join(cDir, 'logs'), { recursive: true });
    await mkdir(path.join(cDir, 'tmp'), { mode: 0o1777 });
    await chmod(path.join(cDir, 'tmp'), 0o1777);
    const databaseUrl = await startPostgres(c, cDir, processes);
    const redisUrl = await startRedis(c, cDir, processes);
    const s3 = await startS3(c, cDir, processes);

    const common: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: 'mp',
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'info',
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: REGION,
      S3_BUCKET: BUCKET,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    const appHost = async (h: NetHost): Promise<AppHost & Internal> => {
      const dir = path.join(root, h.name);
      await mkdir(path.join(dir, 'tmp'), { recursive: true });
      await mkdir(path.join(dir, 'logs'), { recursive: true });
      const u = (port: number) => `http://${h.address}:${port}`;
      const urls = {
        gateway: u(PORTS.gateway),
        notifier: u(PORTS.notifier),
        snsIngest: u(PORTS.snsIngest),
        transcoder: u(PORTS.transcoder),
        dispatch: u(PORTS.dispatch),
      };
      const hostEnv = { ...common, HOST: h.address, TMPDIR: path.join(dir, 'tmp'), HOME: dir };
      const transcoderEnv = {
        ET_CREDENTIALS: `${ET_KEY}:${etSecret}`,
        ET_REGION: REGION,
        ET_ACCOUNT_ID: ACCOUNT,
        ET_PUBLIC_URL: urls.transcoder,
        // Signed direct delivery to this host's own sns-ingest, as tools/stack does on one machine.
        ET_DELIVERY_SUBSCRIPTIONS: JSON.stringify({ [TOPIC]: [`${urls.snsIngest}/sns`] }),
        ET_TMP_DIR: path.join(dir, 'engine'),
        ET_LEASE_MS: String(opts.leaseMs),
        ET_PROGRESS_INTERVAL_MS: '500',
        ET_SWEEP_INTERVAL_MS: '2000',
        PORT: String(PORTS.transcoder),
      };
      const start = (name: string, entry: string, env: Record<string, string>) =>
        startNode(h, name, entry, { ...hostEnv, ...env }, dir, processes);
      return {
        host: h,
        urls,
        dir,
        async startWorker() {
          const p = start('transcoder-worker', 'services/transcoder/src/worker.ts', transcoderEnv);
          await waitForLog(p, /transcoder worker started/);
          return p;
        },
        start,
        transcoderEnv,
      };
    };
    const a = await appHost(net.hosts.a);
    const b = await appHost(net.hosts.b);

    // The core migrations once, from host a, before any service (as compose's one-shot job does).
    await waitForExit(a.start('migrate', 'libs/db/src/migrate-cli.ts', {}));
    for (const h of [a, b]) {
      const api = h.start('transcoder', 'services/transcoder/src/main.ts', h.transcoderEnv);
      await waitForHttp(`${h.urls.transcoder}/healthz`, api);
    }
    await ensurePipeline({
      ET_ENDPOINT: a.urls.transcoder,
      ET_REGION: REGION,
      ET_ACCOUNT_ID: ACCOUNT,
      ET_ACCESS_KEY_ID: ET_KEY,
      ET_SECRET_ACCESS_KEY: etSecret,
      ET_PIPELINE_NAME: PIPELINE,
      ET_TOPIC_ARN: TOPIC,
      S3_BUCKET: BUCKET,
    });
    // Either host's engine may sign a notification (its certificate URL is the engine that sent it).
    const certHosts = [a, b].map((h) => new URL(h.urls.transcoder).host).join(',');
    const startServices = async (h: AppHost & Internal) => {
      const ingest = h.start('sns-ingest', 'services/sns-ingest/src/main.ts', {
        PORT: String(PORTS.snsIngest),
        SNS_ALLOWED_TOPIC_ARNS: TOPIC,
        SNS_ALLOWED_CERT_HOSTS: certHosts,
        SNS_REQUIRE_HTTPS: 'false',
      });
      const notifier = h.start('notifier', 'services/notifier/src/main.ts', {
        PORT: String(PORTS.notifier),
        CORS_ORIGINS: h.urls.gateway,
      });
      const dispatch = h.start('transcode-dispatch', 'services/transcode-dispatch/src/main.ts', {
        PORT: String(PORTS.dispatch),
        ET_ENDPOINT: h.urls.transcoder,
        ET_REGION: REGION,
        ET_ACCESS_KEY_ID: ET_KEY,
        ET_SECRET_ACCESS_KEY: etSecret,
        ET_PIPELINE_NAME: PIPELINE,
        TMP_DIR: path.join(h.dir, 'dispatch'),
      });
      const gateway = h.start('upload-gateway', 'services/upload-gateway/src/main.ts', {
        PORT: String(PORTS.gateway),
        ADMIN_TOKEN: adminToken,
        NOTIFIER_PUBLIC_URL: h.urls.notifier,
      });
      await waitForHttp(`${h.urls.snsIngest}/healthz`, ingest);
      await waitForHttp(`${h.urls.notifier}/healthz`, notifier);
      await waitForHttp(`${h.urls.dispatch}/healthz`, dispatch);
      await waitForHttp(`${h.urls.gateway}/healthz`, gateway);
    };
    await Promise.all([startServices(a), startServices(b)]);
    return {
      net,
      a,
      b,
      databaseUrl,
      redisUrl,
      s3: { ...s3, bucket: BUCKET, region: REGION },
      adminToken,
      processes,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What startHostsSystem itself uses of an application host. */
interface Internal {
  start(name: string, entry: string, env: Record<string, string>): HostProcess;
  transcoderEnv: Record<string, string>;
}

/** Runs argv inside a host's namespace, in a process group of its own, with exactly env as its environment. */
function startIn(
  h: NetHost,
  name: string,
  argv: string[],
  env: Record<string, string>,
  logDir: string,
  processes: HostProcess[],
): HostProcess {
  const logFile = path.join(logDir, 'logs', `${name}-${processes.length}.log`);
  const fd = openSync(logFile, 'a');
  // `ip netns exec` enters the namespace and execs argv: the pid is the program's own.
  const proc = spawn('ip', ['netns', 'exec', h.netns, ...argv], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const p = { host: h.name, name, proc, env, logFile, exited };
  processes.push(p);
  return p;
}

function startNode(
  h: NetHost,
  name: string,
  entry: string,
  env: Record<string, string>,
  dir: string,
  processes: HostProcess[],
): HostProcess {
  return startIn(h, name, [process.execPath, '--import', 'tsx', path.join(repoRoot, entry)], env, dir, processes);
}

/** SIGTERM to the process's group, SIGKILL after 10 s; Postgres gets SIGINT, its fast shutdown. */
export async function stopProcess(p: HostProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const group = (sig: NodeJS.Signals) => signalGroup(p, sig);
  if (p.proc.exitCode === null && p.proc.signalCode === null) {
    group(p.name === 'postgres' ? 'SIGINT' : signal);
    const timer = setTimeout(() => group('SIGKILL'), 10_000);
    await p.exited;
    clearTimeout(timer);
  }
  // Whatever the process left in its group (an ffmpeg of a killed worker) goes too.
  group('SIGKILL');
}

/** The processes below pid (its ffmpeg, in or out of a sandbox, which may leave the process group), from /proc. */
export async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) {
      if (parent === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function signalGroup(p: HostProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(-p.proc.pid!, sig);
  } catch {
    // Already gone.
  }
}

async function startPostgres(c: NetHost, dir: string, processes: HostProcess[]): Promise<string> {
  const bin = await postgresBin();
  const data = path.join(dir, 'pgdata');
  await mkdir(data, { mode: 0o700 });
  const { uid, gid } = await userIds('postgres');
  await chown(data, uid, gid);
  const asPostgres = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
  const env = { HOME: dir, TMPDIR: path.join(dir, 'tmp'), LC_ALL: 'C.UTF-8' };
  await waitForExit(
    startIn(
      c,
      'initdb',
      [...asPostgres, path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'],
      env,
      dir,
      processes,
    ),
  );
  const subnet = `${c.address.replace(/\.\d+$/, '.0')}/24`;
  await writeFile(path.join(data, 'pg_hba.conf'), `host all postgres ${subnet} trust\n`);
  startIn(
    c,
    'postgres',
    [
      ...asPostgres,
      path.join(bin, 'postgres'),
      '-D',
      data,
      '-c',
      `listen_addresses=${c.address}`,
      '-c',
      `port=${C_PORTS.postgres}`,
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
    ],
    env,
    dir,
    processes,
  );
  const url = `postgres://postgres@${c.address}:${C_PORTS.postgres}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 2 });
    const ok = await sql`select 1`.then(
      () => true,
      () => false,
    );
    await sql.end();
    if (ok) return url;
    if (Date.now() > deadline) throw new Error('postgres on host c did not answer within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startRedis(c: NetHost, dir: string, processes: HostProcess[]): Promise<string> {
  const data = path.join(dir, 'redis');
  await mkdir(data);
  const p = startIn(
    c,
    'redis',
    [
      'redis-server',
      '--bind',
      c.address,
      '--port',
      String(C_PORTS.redis),
      '--protected-mode',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      data,
      '--maxmemory-policy',
      'noeviction',
    ],
    { HOME: dir, TMPDIR: path.join(dir, 'tmp') },
    dir,
    processes,
  );
  await waitForLog(p, /Ready to accept connections/);
  return `redis://${c.address}:${C_PORTS.redis}`;
}

async function startS3(
  c: NetHost,
  dir: string,
  processes: HostProcess[],
): Promise<{ endpoint: string; accessKeyId: string; secretAccessKey: string }> {
  const p = startNode(
    c,
    's3',
    'libs/testbed/src/s3rver-host-main.ts',
    {
      S3RVER_ADDRESS: c.address,
      S3RVER_PORT: String(C_PORTS.s3),
      S3RVER_DIR: path.join(dir, 's3'),
      TMPDIR: path.join(dir, 'tmp'),
      HOME: dir,
    },
    dir,
    processes,
  );
  await waitForLog(p, /"endpoint"/);
  const creds = { endpoint: `http://${c.address}:${C_PORTS.s3}`, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = createS3Client({ ...creds, region: REGION, forcePathStyle: true });
  await ensureBucket(client, BUCKET);
  client.destroy();
  return creds;
}

async function postgresBin(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((x, y) => Number(y) - Number(x));
  if (!versions[0]) throw new Error('no Postgres under /usr/lib/postgresql');
  return path.join('/usr/lib/postgresql', versions[0], 'bin');
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function waitForExit(p: HostProcess): Promise<void> {
  await p.exited;
  if (p.proc.exitCode !== 0) throw new Error(`${p.name} on host ${p.host} failed: ${await tail(p)}`);
}

/** Waits until a process's log has a line matching re. */
export async function waitForLog(p: HostProcess, re: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await readFile(p.logFile, 'utf8');
    const line = text.split('\n').find((l) => re.test(l));
    if (line) return line;
    if (p.proc.exitCode !== null) throw new Error(`${p.name} on host ${p.host} exited: ${await tail(p)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${p.name} on host ${p.host} logged no ${re} within ${timeoutMs} ms: ${await tail(p)}`);
}

async function waitForHttp(url: string, p: HostProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.proc.exitCode !== null) throw new Error(`${p.name} on host ${p.host} exited: ${await tail(p)}`);
    const ok = await fetch(url).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${p.name} on host ${p.host} did not answer ${url} within ${timeoutMs} ms: ${await tail(p)}`);
}

async function tail(p: HostProcess): Promise<string> {
  const text = await readFile(p.logFile, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}
