import { pgSchema } from 'drizzle-orm/pg-core';

// This service's own tables, apart from the media pipeline's: one Postgres schema, one migration set. Its
// notify outbox moved to the shared notify_outbox (libs/db), which every producer of notify writes.
export const snsIngest = pgSchema('sns_ingest');
