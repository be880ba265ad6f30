// Worker threads do not inherit the main thread's module hooks: register tsx, then load the worker.
import { register } from 'tsx/esm/api';

register();
await import('./cluster-worker.ts');
