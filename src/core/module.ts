import type { FastifyInstance } from 'fastify';
import type { ApiKeys } from './auth/api-keys.js';
import type { Bus } from './bus/index.js';
import type { Config } from './config.js';
import type { GrpcServer } from './grpc/server.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store/index.js';

/** What a process runs: write endpoints (ingest), bus consumers (persist), queries (api), schedules (jobs). */
export const ROLES = ['ingest', 'persist', 'api', 'jobs'] as const;
export type Role = (typeof ROLES)[number];

/** The core pieces every module is started with. */
export interface CoreContext {
  config: Config;
  log: Logger;
  metrics: Metrics;
  store: Store;
  bus: Bus;
  http: FastifyInstance;
  grpc: GrpcServer;
  keys: ApiKeys;
  roles: ReadonlySet<Role>;
}

/** A started module: whatever it opened, `stop` closes. */
export interface StartedModule {
  name: string;
  stop(): Promise<void>;
}
