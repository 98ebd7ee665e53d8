// docker-compose.yml cannot be run without a Docker engine; what can be checked without one is checked here:
// that each container's environment is one its service accepts, in the default stack and on the AWS path
// (docker-compose.aws.yml on top), that state lives on named volumes, and that the names the S3 servers and
// the engine advertise are the ones the services trust and reach. `docker-compose config` validates both
// forms where Debian's docker-compose is installed (test:image's machines, CI).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadNotifierConfig } from '@mp/notifier';
import { loadSnsIngestConfig } from '@mp/sns-ingest/src/config';
import { loadTranscoderConfig } from '@mp/transcoder';
import { loadDispatchConfig } from '@mp/transcode-dispatch/src/config';
import { loadGatewayConfig } from '@mp/upload-gateway/src/config';
import { loadComposeInitConfig } from '../src/config';

type Env = Record<string, string | number | boolean | null>;
interface Service {
  image?: string;
  build?: { target?: string };
  command?: string[];
  restart?: string;
  container_name?: string;
  ports?: string[];
  volumes?: string[];
  environment?: Env;
  depends_on?: Record<string, { condition: string }>;
  networks?: { default?: { aliases?: string[] } };
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const load = (path: string) => parse(read(path), { merge: true }) as ComposeFile;

/** `-f docker-compose.yml -f docker-compose.aws.yml`: maps (environment, depends_on) merge, the rest replaces. */
function overlay(base: ComposeFile, over: ComposeFile): ComposeFile {
  const services: Record<string, Service> = structuredClone(base.services);
  for (const [name, s] of Object.entries(over.services)) {
    const b = services[name] ?? {};
    services[name] = {
      ...b,
      ...s,
      environment: { ...b.environment, ...s.environment },
      depends_on: { ...b.depends_on, ...s.depends_on },
    };
  }
  return { services, volumes: { ...base.volumes, ...over.volumes } };
}

const stacks = {
  default: load('docker-compose.yml'),
  aws: overlay(load('docker-compose.yml'), load('docker-compose.aws.yml')),
};
type Stack = keyof typeof stacks;

const svc = (stack: Stack, name: string): Service => {
  const s = stacks[stack].services[name];
  if (!s) throw new Error(`the ${stack} stack has no service ${name}`);
  return s;
};

/** The .env.example values, as `cp .env.example .env` gives them to compose. */
const envExample = Object.fromEntries(
  read('.env.example')
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);

/** What compose puts in a container: ${VAR:-default} interpolated, valueless entries passed through or unset. */
function containerEnv(stack: Stack, name: string, shell: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(svc(stack, name).environment ?? {})) {
    if (value === null) {
      if (shell[key] !== undefined) out[key] = shell[key];
      continue;
    }
    out[key] = interpolate(String(value), shell);
  }
  return out;
}
const interpolate = (value: string, shell: Record<string, string>) =>
  value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_m, v: string, def?: string) => shell[v] || def || '');

const hostOf = (url: string) => new URL(url).host;
const loaders: Record<string, (env: Record<string, string>) => unknown> = {
  'upload-gateway': loadGatewayConfig,
  notifier: loadNotifierConfig,
  'sns-ingest': loadSnsIngestConfig,
  transcoder: loadTranscoderConfig,
  'transcoder-worker': loadTranscoderConfig,
  'transcode-dispatch': loadDispatchConfig,
  'compose-init': loadComposeInitConfig,
};
const s3Users = [
  'upload-gateway',
  'sns-ingest',
  'transcoder',
  'transcoder-worker',
  'transcode-dispatch',
  'compose-init',
];

describe.each(['default', 'aws'] as const)('the %s stack', (stack) => {
  for (const [source, shell] of [
    ['no .env', {}],
    ['.env from .env.example', envExample],
  ] as const) {
    it(`gives every service an environment its configuration accepts (${source})`, () => {
      for (const [name, loader] of Object.entries(loaders)) {
        expect(() => loader(containerEnv(stack, name, shell)), name).not.toThrow();
      }
      // Every container built from the Dockerfile runs a service whose loader is checked above, or migrate.
      const built = Object.entries(stacks[stack].services).filter(([, s]) => s.build);
      expect(built.map(([n]) => n).filter((n) => !loaders[n] && n !== 'migrate')).toEqual([]);
    });
  }

  it('keeps every stateful container on a named volume, so restarting every container loses nothing', () => {
    const { services, volumes = {} } = stacks[stack];
    const named = (name: string, target: string) => {
      const mount = svc(stack, name).volumes?.find((v) => v.split(':')[1] === target);
      expect(mount, `${name} mounts ${target}`).toBeDefined();
      const source = mount!.split(':')[0]!;
      expect(Object.keys(volumes), `${name}: ${source} is a named volume`).toContain(source);
    };
    named('postgres', '/var/lib/postgresql/data');
    named('redis', '/data');
    expect(svc(stack, 'redis').command?.join(' ')).toContain('--appendonly yes');
    named('s3', containerEnv(stack, 's3').VGW_BACKEND_ARG!);
    named('compose-init', containerEnv(stack, 'compose-init').INIT_DATA_DIR!);
    // Only these four keep anything. LocalStack's free image keeps nothing across a restart (persistence is a
    // paid feature); its one mount is the init hook, read-only, which makes its state anew at every start.
    const stateful = Object.entries(services).filter(([, s]) =>
      (s.volumes ?? []).some((v) => !v.startsWith('./') && !v.endsWith(':ro')),
    );
    expect(stateful.map(([n]) => n).sort()).toEqual(['compose-init', 'postgres', 'redis', 's3']);
    expect(Object.keys(volumes).sort()).toEqual(['init-data', 'postgres-data', 'redis-data', 's3-data']);
  });

  it('runs each service entry point in its own container, the worker from the image with ffmpeg', () => {
    const entry = (name: string) => svc(stack, name).command?.at(-1);
    expect(entry('upload-gateway')).toBe('services/upload-gateway/src/main.ts');
    expect(entry('notifier')).toBe('services/notifier/src/main.ts');
    expect(entry('sns-ingest')).toBe('services/sns-ingest/src/main.ts');
    expect(entry('transcoder')).toBe('services/transcoder/src/main.ts');
    expect(entry('transcoder-worker')).toBe('services/transcoder/src/worker.ts');
    expect(entry('transcode-dispatch')).toBe('services/transcode-dispatch/src/main.ts');
    expect(entry('migrate')).toBe('libs/db/src/migrate-cli.ts');
    expect(entry('compose-init')).toBe('tools/compose-init/src/main.ts');
    expect(svc(stack, 'transcoder-worker').build?.target).toBe('app-ffmpeg');
  });

  it('scales: no container names, and no host ports on dispatch and the workers', () => {
    for (const [name, s] of Object.entries(stacks[stack].services)) expect(s.container_name, name).toBeUndefined();
    expect(svc(stack, 'transcode-dispatch').ports).toBeUndefined();
    expect(svc(stack, 'transcoder-worker').ports).toBeUndefined();
  });

  it('migrates once before every service, makes bucket and pipeline before dispatch starts', () => {
    const waitsFor = (name: string, dep: string) => svc(stack, name).depends_on?.[dep]?.condition;
    for (const name of Object.keys(loaders))
      expect(waitsFor(name, 'migrate'), name).toBe('service_completed_successfully');
    expect(waitsFor('transcode-dispatch', 'compose-init')).toBe('service_completed_successfully');
    // The gateway sets the bucket's playback CORS rule at start: the bucket must be there.
    expect(waitsFor('upload-gateway', 'compose-init')).toBe('service_completed_successfully');
    expect(waitsFor('compose-init', 'transcoder')).toBe('service_healthy');
    const store = stack === 'default' ? 's3' : 'localstack';
    for (const name of ['upload-gateway', 'transcoder', 'transcoder-worker', 'transcode-dispatch', 'compose-init']) {
      expect(waitsFor(name, store), `${name} waits for ${store}`).toBe('service_healthy');
    }
    expect(svc(stack, 'migrate').restart).toBe('no');
    expect(svc(stack, 'compose-init').restart).toBe('no');
  });

  it('names one topic in the pipeline, the sns-ingest allow-list and the engine, in the engine account', () => {
    const topic = containerEnv(stack, 'compose-init').ET_TOPIC_ARN!;
    const [, , , region, account] = topic.split(':');
    expect(containerEnv(stack, 'sns-ingest').SNS_ALLOWED_TOPIC_ARNS!.split(',')).toContain(topic);
    const transcoder = loadTranscoderConfig(containerEnv(stack, 'transcoder'));
    expect({ region: transcoder.ET_REGION, account: transcoder.ET_ACCOUNT_ID, sns: transcoder.SNS_REGION }).toEqual({
      region,
      account,
      sns: region,
    });
    for (const name of s3Users) {
      expect(containerEnv(stack, name, envExample).S3_BUCKET, name).toBe(envExample.S3_BUCKET);
    }
  });

  it('pins every image to a version, keeps Redis from evicting', () => {
    expect(svc(stack, 'redis').command?.join(' ')).toContain('--maxmemory-policy noeviction');
    for (const [name, s] of Object.entries(stacks[stack].services)) {
      if (s.image) expect(interpolate(s.image, {}), name).toMatch(/^[^:]+:[^:]*\d[^:]*$/);
    }
  });
});

describe('the default stack: the Versity S3 Gateway and the engine’s direct delivery', () => {
  it('stores objects under the data directory with the key pair every service signs with', () => {
    for (const shell of [{}, envExample]) {
      const s3 = containerEnv('default', 's3', shell);
      expect(s3.VGW_BACKEND).toBe('posix');
      for (const name of s3Users) {
        const env = containerEnv('default', name, shell);
        expect([env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY], name).toEqual([
          s3.ROOT_ACCESS_KEY_ID,
          s3.ROOT_SECRET_ACCESS_KEY,
        ]);
      }
    }
    expect(svc('default', 's3').image).toMatch(/^versity\/versitygw:/);
  });

  it('reaches the S3 server by a name a browser on this machine also reaches, on the published port', () => {
    const endpoint = new URL(containerEnv('default', 'upload-gateway').S3_ENDPOINT!);
    expect(endpoint.hostname).toMatch(/\.localhost$/);
    expect(svc('default', 's3').networks?.default?.aliases).toContain(endpoint.hostname);
    expect(containerEnv('default', 's3').VGW_PORT).toBe(`:${endpoint.port}`);
    expect(svc('default', 's3').ports?.some((p) => p.endsWith(`:${endpoint.port}:${endpoint.port}`))).toBe(true);
    for (const name of s3Users)
      expect(containerEnv('default', name).S3_ENDPOINT, name).toBe(endpoint.href.slice(0, -1));
    // The page's player and links read from S3 across origins.
    expect(containerEnv('default', 's3').VGW_CORS_ALLOW_ORIGIN).toBe('*');
    const health = containerEnv('default', 's3').VGW_HEALTH!;
    expect(JSON.stringify(svc('default', 's3'))).toContain(`127.0.0.1:${endpoint.port}${health}`);
  });

  it('delivers every notification of the topic to sns-ingest, which trusts the engine’s certificate host', () => {
    const ingest = loadSnsIngestConfig(containerEnv('default', 'sns-ingest'));
    for (const name of ['transcoder', 'transcoder-worker']) {
      const engine = loadTranscoderConfig(containerEnv('default', name));
      expect(engine.SNS_ENDPOINT, name).toBeUndefined();
      expect(engine.ET_DELIVERY_SUBSCRIPTIONS, name).toEqual({
        [containerEnv('default', 'compose-init').ET_TOPIC_ARN!]: [`http://sns-ingest:${ingest.PORT}/sns`],
      });
      expect(ingest.SNS_ALLOWED_CERT_HOSTS).toContain(hostOf(engine.ET_PUBLIC_URL));
      expect(engine.ET_PUBLIC_URL).toBe(`http://transcoder:${engine.PORT}`);
    }
    expect(ingest.SNS_REQUIRE_HTTPS).toBe(false);
    expect(stacks.default.services.localstack).toBeUndefined();
  });
});

describe('the AWS path: LocalStack for S3 and SNS', () => {
  it('trusts the host LocalStack writes into SigningCertURL and SubscribeURL, and reaches it by that name', () => {
    const localstack = containerEnv('aws', 'localstack');
    const advertised = localstack.LOCALSTACK_HOST!;
    const ingest = containerEnv('aws', 'sns-ingest');
    expect(ingest.SNS_ALLOWED_CERT_HOSTS!.split(',')).toContain(advertised);
    expect(ingest.SNS_REQUIRE_HTTPS).toBe('false');

    const namesOfLocalstack = ['localstack', ...(svc('aws', 'localstack').networks?.default?.aliases ?? [])];
    expect(namesOfLocalstack).toContain(advertised.split(':')[0]);
    // Download links are signed for the S3 endpoint; the browser reaches the same name on the published port.
    for (const name of s3Users) expect(hostOf(containerEnv('aws', name).S3_ENDPOINT!), name).toBe(advertised);
    expect(svc('aws', 'localstack').ports?.some((p) => p.endsWith(`:${advertised.split(':')[1]}:4566`))).toBe(true);
    for (const name of ['transcoder', 'transcoder-worker']) {
      const engine = loadTranscoderConfig(containerEnv('aws', name));
      expect(namesOfLocalstack).toContain(new URL(engine.SNS_ENDPOINT!).hostname);
      // Through SNS only: a direct delivery as well would deliver every notification twice.
      expect(engine.ET_DELIVERY_SUBSCRIPTIONS, name).toEqual({});
    }
  });

  it('subscribes sns-ingest on its own port to the topic, and sends the upload prefix of the bucket', () => {
    const hook = containerEnv('aws', 'localstack', envExample);
    const ingest = containerEnv('aws', 'sns-ingest', envExample);
    expect(hook.MP_TOPIC_ARN).toBe(containerEnv('aws', 'compose-init').ET_TOPIC_ARN);
    expect(hook.MP_SUBSCRIBER_URL).toBe(`http://sns-ingest:${ingest.PORT}/sns`);
    expect(hook.MP_SUBSCRIBER_HEALTH_URL).toBe(`http://sns-ingest:${ingest.PORT}/healthz`);
    expect(hook.MP_UPLOAD_PREFIX).toBe('media/');
    expect(hook.MP_BUCKET).toBe(envExample.S3_BUCKET);
    expect(svc('aws', 'localstack').depends_on?.['sns-ingest']?.condition).toBe('service_healthy');
  });

  it('pins LocalStack 4.14.0 unless told otherwise', () => {
    expect(svc('aws', 'localstack').image).toBe('localstack/localstack:${LOCALSTACK_TAG:-4.14.0}');
    expect(Object.keys(svc('aws', 'localstack').environment ?? {})).toContain('LOCALSTACK_AUTH_TOKEN');
  });
});

const dockerCompose = (() => {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('docker-compose config', () => {
  const cwd = fileURLToPath(root);
  // An empty env file, so that a developer's .env does not change what is compared.
  const noEnv = path.join(mkdtempSync(path.join(os.tmpdir(), 'compose-config-')), 'empty.env');
  writeFileSync(noEnv, '');
  const config = (...files: string[]) =>
    parse(
      execFileSync('docker-compose', ['--env-file', noEnv, ...files.flatMap((f) => ['-f', f]), 'config'], {
        cwd,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      }),
    ) as ComposeFile;

  it.skipIf(!dockerCompose)('validates both forms, and merges them as this test does', () => {
    for (const [stack, files] of [
      ['default', ['docker-compose.yml']],
      ['aws', ['docker-compose.yml', 'docker-compose.aws.yml']],
    ] as const) {
      const rendered = config(...files);
      expect(Object.keys(rendered.services).sort(), stack).toEqual(Object.keys(stacks[stack].services).sort());
      for (const name of Object.keys(loaders)) {
        const env = Object.fromEntries(
          Object.entries(rendered.services[name]!.environment ?? {})
            .filter(([, v]) => v !== null)
            .map(([k, v]) => [k, String(v)]),
        );
        expect(env, `${stack} ${name}`).toEqual(containerEnv(stack, name));
      }
    }
  });

  it('is named in the README with the commands that run each form', () => {
    const readme = read('README.md');
    expect(readme).toContain('docker compose up');
    expect(readme).toContain('docker compose -f docker-compose.yml -f docker-compose.aws.yml up');
    expect(read('docker-compose.aws.yml')).toContain(
      'docker compose -f docker-compose.yml -f docker-compose.aws.yml up',
    );
  });
});
