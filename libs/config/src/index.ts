import { z } from 'zod';
import { warnOnDevelopmentDefaults } from './development-defaults';

export { z };
export { developmentDefaults } from './development-defaults';

/**
 * Parses the environment once, at start. A missing or bad variable stops the process with one line
 * naming the variable and what it expects.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  // A process's own start (not a test's or tool's explicit env): warn while a secret is a development default.
  if (result.success && env === process.env) warnOnDevelopmentDefaults(variablesOf(schema), env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? '?');
  const line = `config: ${name} ${describe(issue, env[name])}`;
  throw new ConfigError(line);
}

/** The variable names of a schema, through refinements and transforms (the transcoder's is a pipe). */
function variablesOf(schema: z.ZodType): string[] {
  const def = schema._zod.def as { shape?: Record<string, unknown>; in?: z.ZodType };
  if (def.shape) return Object.keys(def.shape);
  return def.in ? variablesOf(def.in) : [];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describe(issue: z.core.$ZodIssue, value: string | undefined): string {
  if (value === undefined) return `is required: ${issue.message}`;
  return `is invalid (${issue.message})`;
}

/** Runs main; a ConfigError prints its one line and exits 1. */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error(err);
  }
  process.exit(1);
}

// Reusable field types.
export const env = {
  url: () => z.url(),
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  int: (def: number) => z.coerce.number().int().default(def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  list: (def: string) =>
    z
      .string()
      .default(def)
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
  secret: (min = 16) => z.string().min(min, `at least ${min} characters`),
};

/** Variables every service shares. */
export const common = {
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'),
  /** A Redis Cluster's nodes (host:port,host:port); set, it replaces REDIS_URL's server (see libs/runtime redis.ts). */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^\s*[\w.-]+:\d{1,5}\s*(,\s*[\w.-]+:\d{1,5}\s*)*$/, 'host:port,host:port')
    .optional()
    .transform((s) => (s ? s.split(',').map((x) => x.trim()) : [])),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and -')
    .default('mp'),
  /** On SIGTERM, how long in-flight work may take to finish before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
};

/** The engine's region and account, as its ARNs spell them (the engine itself, and who makes its pipeline). */
export const et = {
  ET_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'a region name')
    .default('us-east-1'),
  ET_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, '12 digits')
    .default('000000000000'),
};

export const s3 = {
  S3_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().min(3),
  S3_FORCE_PATH_STYLE: env.bool(true),
  AWS_ACCESS_KEY_ID: z.string().min(1),
  AWS_SECRET_ACCESS_KEY: z.string().min(1),
};
