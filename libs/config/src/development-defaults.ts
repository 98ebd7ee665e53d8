import path from 'node:path';

/**
 * The secrets docker-compose.yml and .env.example ship with, by the variable that holds them (and, for
 * DATABASE_URL, the one that sets it). They are for a development machine only.
 */
const DEVELOPMENT_SECRETS: ReadonlyArray<{ variable: string; setBy: string; matches: (value: string) => boolean }> = [
  { variable: 'ADMIN_TOKEN', setBy: 'ADMIN_TOKEN', matches: (v) => v === 'dev-admin-token-change-me' },
  { variable: 'ET_SECRET_ACCESS_KEY', setBy: 'ET_SECRET_ACCESS_KEY', matches: (v) => v === 'dev-et-secret-change-me' },
  {
    variable: 'ET_CREDENTIALS',
    setBy: 'ET_SECRET_ACCESS_KEY',
    matches: (v) => v.split(',').some((pair) => pair.trim().endsWith(':dev-et-secret-change-me')),
  },
  { variable: 'AWS_SECRET_ACCESS_KEY', setBy: 'S3_SECRET_KEY', matches: (v) => v === 'dev-s3-secret-change-me' },
  {
    variable: 'DATABASE_URL',
    setBy: 'POSTGRES_PASSWORD',
    matches: (v) => {
      try {
        return decodeURIComponent(new URL(v).password) === 'media-dev-password';
      } catch {
        return false;
      }
    },
  },
];

/** The variables among `names` whose value in `env` is a development default, with the setting to change. */
export function developmentDefaults(
  names: readonly string[],
  env: NodeJS.ProcessEnv,
): Array<{ variable: string; setBy: string }> {
  return DEVELOPMENT_SECRETS.filter(({ variable, matches }) => {
    const value = env[variable];
    return names.includes(variable) && value !== undefined && matches(value);
  }).map(({ variable, setBy }) => ({ variable, setBy }));
}

/** One warning line at start, in the services' log format (pino's JSON, level 40), for each such secret. */
export function warnOnDevelopmentDefaults(names: readonly string[], env: NodeJS.ProcessEnv): void {
  const service = path.basename(path.dirname(path.dirname(process.argv[1] ?? ''))) || 'service';
  for (const { variable, setBy } of developmentDefaults(names, env)) {
    const msg = `${variable} holds the development default: set ${setBy} (README, "Secrets") before anyone else can reach this`;
    process.stderr.write(
      `${JSON.stringify({ level: 40, time: new Date().toISOString(), service, variable, setBy, msg })}\n`,
    );
  }
}
