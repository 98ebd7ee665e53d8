import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';

export const coreMigrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

export interface MigrateOptions {
  folder?: string;
  /** Table that records applied migrations; each migration set has its own. */
  table?: string;
  schema?: string;
}

/**
 * Applies migrations under a Postgres advisory lock, so that several replicas starting at once
 * apply them exactly once; the others wait and then find nothing to do.
 */
export async function runMigrations(url: string, opts: MigrateOptions = {}): Promise<void> {
  const folder = opts.folder ?? coreMigrationsFolder;
  const table = opts.table ?? '__migrations_core';
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(hashtext(${table}))`;
    try {
      await migrate(drizzle(sql), {
        migrationsFolder: folder,
        migrationsTable: table,
        migrationsSchema: opts.schema ?? 'public',
      });
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${table}))`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
