export * from './http';
export * from './queue';
export * from './shutdown';
export * from './metrics';
