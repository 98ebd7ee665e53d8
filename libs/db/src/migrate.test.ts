import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { coreMigrationsFolder, runMigrations } from './migrate';

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv();
});
afterAll(() => t.cleanup());

describe('runMigrations', () => {
  it('is safe when several replicas start at once', async () => {
    await Promise.all([runMigrations(t.databaseUrl), runMigrations(t.databaseUrl), runMigrations(t.databaseUrl)]);
    const sql = postgres(t.databaseUrl, { max: 1 });
    const applied = await sql`select count(*)::int as n from public.__migrations_core`;
    const tables = await sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`;
    await sql.end();
    const journal = JSON.parse(readFileSync(`${coreMigrationsFolder}/meta/_journal.json`, 'utf8')) as {
      entries: unknown[];
    };
    expect(applied[0]!.n).toBe(journal.entries.length);
    expect(tables.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'media',
        'media_tombstones',
        'notifications',
        'notify_outbox',
        'outputs',
        'sns_messages',
        'transcode_jobs',
        'users',
      ]),
    );
  });
});
