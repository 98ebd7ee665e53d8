import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { developmentDefaults } from './index';

const names = ['ADMIN_TOKEN', 'ET_SECRET_ACCESS_KEY', 'ET_CREDENTIALS', 'AWS_SECRET_ACCESS_KEY', 'DATABASE_URL'];

describe('developmentDefaults', () => {
  it('names each secret that still holds the value docker-compose.yml ships, and the setting to change', () => {
    const found = developmentDefaults(names, {
      ADMIN_TOKEN: 'dev-admin-token-change-me',
      ET_SECRET_ACCESS_KEY: 'dev-et-secret-change-me',
      ET_CREDENTIALS: 'OTHER:x,MEDIAPIPELINEDEV:dev-et-secret-change-me',
      AWS_SECRET_ACCESS_KEY: 'dev-s3-secret-change-me',
      DATABASE_URL: 'postgres://media:media-dev-password@postgres:5432/media',
    });
    expect(found).toEqual([
      { variable: 'ADMIN_TOKEN', setBy: 'ADMIN_TOKEN' },
      { variable: 'ET_SECRET_ACCESS_KEY', setBy: 'ET_SECRET_ACCESS_KEY' },
      { variable: 'ET_CREDENTIALS', setBy: 'ET_SECRET_ACCESS_KEY' },
      { variable: 'AWS_SECRET_ACCESS_KEY', setBy: 'S3_SECRET_KEY' },
      { variable: 'DATABASE_URL', setBy: 'POSTGRES_PASSWORD' },
    ]);
  });

  it('says nothing of secrets that were changed, or that the service does not read', () => {
    expect(
      developmentDefaults(names, {
        ADMIN_TOKEN: 'a-real-admin-token-of-32-chars!!',
        ET_CREDENTIALS: 'MEDIAPIPELINEDEV:changed',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      }),
    ).toEqual([]);
    expect(developmentDefaults(['DATABASE_URL'], { ADMIN_TOKEN: 'dev-admin-token-change-me' })).toEqual([]);
  });

  it('is logged at start by loadConfig, once per secret, and not for an explicit environment', () => {
    const script = `
      import { loadConfig, z } from './index.ts';
      const schema = z.object({ ADMIN_TOKEN: z.string(), OTHER: z.string().optional() }).transform((c) => c);
      loadConfig(schema, { ADMIN_TOKEN: 'dev-admin-token-change-me' });
      loadConfig(schema);
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      env: { ...process.env, ADMIN_TOKEN: 'dev-admin-token-change-me' },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, variable: 'ADMIN_TOKEN', setBy: 'ADMIN_TOKEN' });
    expect(String(lines[0]!.msg)).toContain('development default');
  });
});
