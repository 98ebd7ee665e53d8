// docker-compose.yml cannot be run without a Docker engine; what can be checked without one is checked here:
// that each container's environment is one its service accepts, and that the names LocalStack advertises
// are the ones the services trust and reach.
import { readFileSync } from 'node:fs';
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
  command?: string[];
  restart?: string;
  container_name?: string;
  ports?: string[];
  environment?: Env;
  depends_on?: Record<string, { condition: string }>;
  networks?: { default?: { aliases?: string[] } };
}

const root = new URL('../../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

/** The .env.example values, as `cp .env.example .env` gives them to compose. */
const envExample = Object.fromEntries(
  readFileSync(new URL('.env.example', root), 'utf8')
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);

/** What compose puts in a container: ${VAR:-default} interpolated, valueless entries passed through or unset. */
function containerEnv(name: string, shell: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(svc(name).environment ?? {})) {
    if (value === null) {
      if (shell[key] !== undefined) out[key] = shell[key];
      continue;
    }
    out[key] = String(value).replace(
      /\$\{(\w+)(?::-([^}]*))?\}/g,
      (_m, v: string, def?: string) => shell[v] || def || '',
    );
  }
  return out;
}

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

describe('docker-compose.yml', () => {
  for (const [source, shell] of [
    ['no .env', {}],
    ['.env from .env.example', envExample],
  ] as const) {
    it(`gives every service an environment its configuration accepts (${source})`, () => {
      for (const [name, load] of Object.entries(loaders)) {
        expect(() => load(containerEnv(name, shell)), name).not.toThrow();
      }
    });
  }

  it('runs each service entry point in its own container, the worker from the image with ffmpeg', () => {
    const entry = (name: string) => svc(name).command?.at(-1);
    expect(entry('upload-gateway')).toBe('services/upload-gateway/src/main.ts');
    expect(entry('notifier')).toBe('services/notifier/src/main.ts');
    expect(entry('sns-ingest')).toBe('services/sns-ingest/src/main.ts');
    expect(entry('transcoder')).toBe('services/transcoder/src/main.ts');
    expect(entry('transcoder-worker')).toBe('services/transcoder/src/worker.ts');
    expect(entry('transcode-dispatch')).toBe('services/transcode-dispatch/src/main.ts');
    expect(entry('migrate')).toBe('libs/db/src/migrate-cli.ts');
    expect(entry('compose-init')).toBe('tools/compose-init/src/main.ts');
    expect((svc('transcoder-worker') as { build?: { target?: string } }).build?.target).toBe('app-ffmpeg');
  });

  it('trusts the host LocalStack writes into SigningCertURL and SubscribeURL, and reaches it by that name', () => {
    const localstack = containerEnv('localstack', {});
    const advertised = localstack.LOCALSTACK_HOST!;
    const ingest = containerEnv('sns-ingest', {});
    expect(ingest.SNS_ALLOWED_CERT_HOSTS!.split(',')).toContain(advertised);
    expect(ingest.SNS_REQUIRE_HTTPS).toBe('false');

    const namesOfLocalstack = ['localstack', ...(svc('localstack').networks?.default?.aliases ?? [])];
    expect(namesOfLocalstack).toContain(advertised.split(':')[0]);
    // Download links are signed for the S3 endpoint; the browser reaches the same name on the published port.
    for (const name of ['upload-gateway', 'sns-ingest', 'transcoder', 'transcoder-worker', 'transcode-dispatch']) {
      expect(hostOf(containerEnv(name, {}).S3_ENDPOINT!), name).toBe(advertised);
    }
    expect(svc('localstack').ports?.some((p) => p.endsWith(`:${advertised.split(':')[1]}:4566`))).toBe(true);
    for (const name of ['transcoder', 'transcoder-worker']) {
      expect(namesOfLocalstack).toContain(new URL(containerEnv(name, {}).SNS_ENDPOINT!).hostname);
    }
  });

  it('names one topic in the LocalStack init hook, the sns-ingest allow-list and the pipeline, in the engine account', () => {
    const topic = containerEnv('localstack', {}).MP_TOPIC_ARN!;
    const [, , , region, account] = topic.split(':');
    expect(containerEnv('sns-ingest', {}).SNS_ALLOWED_TOPIC_ARNS!.split(',')).toContain(topic);
    expect(containerEnv('compose-init', {}).ET_TOPIC_ARN).toBe(topic);
    const transcoder = loadTranscoderConfig(containerEnv('transcoder', {}));
    expect({ region: transcoder.ET_REGION, account: transcoder.ET_ACCOUNT_ID, sns: transcoder.SNS_REGION }).toEqual({
      region,
      account,
      sns: region,
    });
  });

  it('subscribes sns-ingest on its own port and sends the upload prefix of the bucket the services use', () => {
    const hook = containerEnv('localstack', envExample);
    const ingest = containerEnv('sns-ingest', envExample);
    expect(hook.MP_SUBSCRIBER_URL).toBe(`http://sns-ingest:${ingest.PORT}/sns`);
    expect(hook.MP_SUBSCRIBER_HEALTH_URL).toBe(`http://sns-ingest:${ingest.PORT}/healthz`);
    expect(hook.MP_UPLOAD_PREFIX).toBe('media/');
    for (const name of ['upload-gateway', 'sns-ingest', 'transcode-dispatch', 'compose-init']) {
      expect(containerEnv(name, envExample).S3_BUCKET, name).toBe(hook.MP_BUCKET);
    }
  });

  it('scales: no container names, and no host ports on dispatch and the workers', () => {
    for (const [name, s] of Object.entries(services)) expect(s.container_name, name).toBeUndefined();
    expect(svc('transcode-dispatch').ports).toBeUndefined();
    expect(svc('transcoder-worker').ports).toBeUndefined();
  });

  it('migrates once before every service and creates the pipeline before dispatch starts', () => {
    const waitsFor = (name: string, dep: string) => svc(name).depends_on?.[dep]?.condition;
    for (const name of [
      'upload-gateway',
      'notifier',
      'sns-ingest',
      'transcoder',
      'transcoder-worker',
      'transcode-dispatch',
      'compose-init',
    ]) {
      expect(waitsFor(name, 'migrate'), name).toBe('service_completed_successfully');
    }
    expect(waitsFor('transcode-dispatch', 'compose-init')).toBe('service_completed_successfully');
    expect(waitsFor('localstack', 'sns-ingest')).toBe('service_healthy');
    expect(svc('migrate').restart).toBe('no');
    expect(svc('compose-init').restart).toBe('no');
  });

  it('pins LocalStack 4.14.0 unless told otherwise, keeps Redis from evicting, runs no image as latest', () => {
    expect(svc('localstack').image).toBe('localstack/localstack:${LOCALSTACK_TAG:-4.14.0}');
    expect(Object.keys(svc('localstack').environment ?? {})).toContain('LOCALSTACK_AUTH_TOKEN');
    expect(svc('redis').command?.join(' ')).toContain('--maxmemory-policy noeviction');
    for (const [name, s] of Object.entries(services)) {
      if (s.image) expect(s.image, name).not.toMatch(/:latest$|^[^:]+$/);
    }
  });
});
