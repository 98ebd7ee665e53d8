import { validationError } from './errors';
import { ID_PATTERN } from './ids';

/** Items per page of the four List operations; the service never documented its own size. */
export const PAGE_SIZE = 50;

export interface PageQuery {
  ascending: boolean;
  /** Id of the first item of the page (inclusive). */
  token?: string;
}

/** Reads `Ascending` and `PageToken` from a List request's query string. */
export function pageQuery(query: Record<string, unknown>, defaultAscending: boolean): PageQuery {
  const asc = query.Ascending;
  if (asc !== undefined && asc !== 'true' && asc !== 'false') {
    throw validationError(
      `1 validation error detected: Value '${String(asc)}' at 'ascending' failed to satisfy constraint: Member must satisfy regular expression pattern: (^true$)|(^false$)`,
    );
  }
  const token = query.PageToken;
  if (token !== undefined && (typeof token !== 'string' || !ID_PATTERN.test(token))) {
    throw validationError(
      `1 validation error detected: Value '${String(token)}' at 'pageToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\\d{13}-\\w{6}$`,
    );
  }
  return { ascending: asc === undefined ? defaultAscending : asc === 'true', token: token as string | undefined };
}

/** One page of an id-ordered list held in memory (presets); NextPageToken is the next page's first id. */
export function pageOf<T extends { Id?: string }>(
  items: T[],
  q: PageQuery,
  size = PAGE_SIZE,
): { page: T[]; next?: string } {
  const sorted = [...items].sort((a, b) => (a.Id! < b.Id! ? -1 : a.Id! > b.Id! ? 1 : 0));
  if (!q.ascending) sorted.reverse();
  const start =
    q.token === undefined ? 0 : sorted.findIndex((i) => (q.ascending ? i.Id! >= q.token! : i.Id! <= q.token!));
  if (start < 0) return { page: [] };
  const page = sorted.slice(start, start + size);
  const next = sorted[start + size]?.Id;
  return next ? { page, next } : { page };
}
