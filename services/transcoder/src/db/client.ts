import { fileURLToPath } from 'node:url';
import { createDb, runMigrations, type DbHandle as Handle, type DbOf } from '@mp/db';
import * as schema from './schema';

export type TranscoderDb = DbOf<typeof schema>;

export type DbHandle = Handle<TranscoderDb>;

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Applies this service's own migrations (schema `transcoder`), once across replicas. */
export const migrate = (url: string) =>
  runMigrations(url, { folder: migrationsFolder, table: '__migrations_transcoder' });

/** The transcoder's tables (schema `transcoder`) through the shared constructor. */
export function openDb(url: string, max = 10): DbHandle {
  return createDb(url, { max, schema });
}
