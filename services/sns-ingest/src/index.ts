export { buildSnsIngest, migrateSnsIngest } from './server';
export type { SnsIngest } from './server';
export { configSchema, loadSnsIngestConfig } from './config';
export type { SnsIngestConfig } from './config';
