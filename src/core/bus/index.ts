export type { Bus, Handler } from './bus.js';
export { NoConsumerError } from './bus.js';
export { createInProcessBus } from './in-process.js';
