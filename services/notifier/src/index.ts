export { startNotifier, type RunningNotifier } from './server';
export { loadNotifierConfig, NotifierConfigSchema, type NotifierConfig, type NotifierConfigInput } from './config';
export { userRoom } from './user-events';
