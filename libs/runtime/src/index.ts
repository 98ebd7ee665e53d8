export * from './http';
export { defaultClientLimits, type ClientLimits } from './client-limits';
export * from './queue';
export * from './redis';
export * from './job-registry';
export * from './shutdown';
export * from './metrics';
