import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { runMigrations } from '@mp/db';
import * as schema from './schema';

export type TranscoderDb = PostgresJsDatabase<typeof schema>;

export interface DbHandle {
  db: TranscoderDb;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Applies this service's own migrations (schema `transcoder`), once across replicas. */
export const migrate = (url: string) => runMigrations(url, { folder: migrationsFolder, table: '__migrations_transcoder' });

export function openDb(url: string, max = 10): DbHandle {
  const sql = postgres(url, { max, onnotice: () => {}, idle_timeout: 30 });
  const db = drizzle(sql, { schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
