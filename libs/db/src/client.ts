import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import * as coreSchema from './schema';

/** A drizzle database over postgres.js, typed by the tables of one schema module. */
export type DbOf<S extends Record<string, unknown>> = PostgresJsDatabase<S> & { $client: postgres.Sql };

/** The media pipeline's shared tables (users, media, outputs, jobs, notifications). */
export type Db = DbOf<typeof coreSchema>;

export interface DbHandle<D = Db> {
  db: D;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export interface DbOptions<S extends Record<string, unknown>> {
  /** Pool size (default 10). */
  max?: number;
  /** A service's own tables instead of the shared ones (the transcoder's schema). */
  schema?: S;
}

/** The one way every process opens Postgres: a pool and drizzle over it. */
export function createDb<S extends Record<string, unknown> = typeof coreSchema>(
  url: string,
  opts: DbOptions<S> = {},
): DbHandle<DbOf<S>> {
  const sql = postgres(url, { max: opts.max ?? 10, onnotice: () => {}, idle_timeout: 30 });
  const db = drizzle(sql, { schema: opts.schema ?? coreSchema }) as unknown as DbOf<S>;
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
