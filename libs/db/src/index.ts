export * from './client';
export * from './migrate';
export * as schema from './schema';
export * from './schema';
export * from './media.repository';
export * from './transcode-jobs.repository';
export { and, asc, desc, eq, gt, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
