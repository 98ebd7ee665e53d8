import { encodeCursor, type MediaCursor } from '@mp/db';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What toISOString gives for years 1 to 9999, all of which Postgres takes (year 0 it does not). */
const ISO = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The list cursor given out with a page, or null for anything else: a uuid after the `|` and a time
 * Postgres can compare, in the exact form encodeCursor writes (so no second spelling of one cursor). Pure.
 */
export function parseCursor(s: string): MediaCursor | null {
  const [iso, id, ...rest] = Buffer.from(s, 'base64url').toString('utf8').split('|');
  if (rest.length || !iso || !id || !ISO.test(iso) || !UUID.test(id)) return null;
  const createdAt = new Date(iso);
  if (Number.isNaN(createdAt.getTime())) return null;
  const cursor = { createdAt, id };
  return encodeCursor(cursor) === s ? cursor : null;
}
