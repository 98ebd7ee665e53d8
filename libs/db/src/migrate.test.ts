import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { runMigrations } from './migrate';

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
    expect(applied[0]!.n).toBe(1);
    expect(tables.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['media', 'notifications', 'outputs', 'sns_messages', 'transcode_jobs', 'users']),
    );
  });
});
