export * from './queues';
export * from './jobs';
export * from './media';
export * from './events';
export * from './errors';
export * from './elastic-transcoder';
export * from './sns';
export * from './s3-events';
