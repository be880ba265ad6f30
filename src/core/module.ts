import type { Connections } from './connections.js';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { ApiKeys } from './auth/api-keys.js';
import type { Bus } from './bus/index.js';
import type { CoreConfig } from './config.js';
import type { GrpcServer } from './grpc/server.js';
import type { Logger } from './log.js';
import type { SettingsSchema } from './settings.js';
import type { Store } from './store/index.js';

/** What a process runs: write endpoints (ingest), bus consumers (persist), queries (api), schedules (jobs). */
export const ROLES = ['ingest', 'persist', 'api', 'jobs'] as const;
export type Role = (typeof ROLES)[number];

/** Stops what a part started. */
export type Stop = () => void | Promise<void>;

/** What a module runs in one role; each piece only in processes that have the role, `start` first. */
export interface RolePart {
  /** HTTP routes: an encapsulated Fastify plugin, registered under the module's `prefix`. */
  routes?: FastifyPluginAsync;
  /** gRPC services, added to the server. */
  grpc?: (server: GrpcServer) => void;
  /** Long-running work (bus consumers, schedules): starts it and returns how to stop it. */
  start?: () => Stop | Promise<Stop>;
}

/** A created module: its parts by role (the one place a module says what runs where), and its service. */
export interface ModuleParts<Service> {
  roles: Partial<Record<Role, RolePart>>;
  /** What other modules may call (through the module's `index.ts`). */
  service: Service;
  /** Closes what `create` opened, in every role (after the role parts have stopped). */
  close?: () => Promise<void>;
  /**
   * False when the module is switched off by its settings (e.g. no server to connect to): it runs no
   * work and the dashboard hides its views. Default true.
   */
  enabled?: boolean;
}

/** The core pieces a module is created with: its own settings, never the whole config. */
export interface ModuleContext<Settings> {
  /** The module's settings (its `settings.ts`), frozen. */
  settings: Settings;
  /** Core settings a module may read: time zone, data directory, whether reads need a key… */
  core: CoreConfig;
  /** A logger with `module: <name>`. */
  log: Logger;
  /** Where the module registers its metrics (one registry per running app). */
  registry: Registry;
  store: Store;
  bus: Bus;
  keys: ApiKeys;
  /** Where the module says whether the outside services it uses (a broker, say) answer: `/ready` lists them. */
  connections: Connections;
}

/**
 * A module: one folder under `src/modules/`, registered in `main.ts` with one line. Core runs its
 * migrations, creates it with its settings and the services of the modules it depends on, then
 * registers and starts the parts of the roles this process has.
 */
export interface WattlineModule<Settings, Deps, Service> {
  name: string;
  /** The module's settings schema (`settings.ts`): the areas it owns, composed into the config by `src/config.ts`. */
  settings?: SettingsSchema;
  /** Folder of `NNN-name.sql` migrations (engine folders where SQL differs). */
  migrations?: string;
  /** URL prefix of the module's routes ('' for routes at the root, as compatibility APIs need). */
  prefix?: string;
  create(ctx: ModuleContext<Settings>, deps: Deps): ModuleParts<Service> | Promise<ModuleParts<Service>>;
}

/** Helper that keeps a module's types when declaring it. */
export function defineModule<Settings, Deps, Service>(
  module: WattlineModule<Settings, Deps, Service>,
): WattlineModule<Settings, Deps, Service> {
  return module;
}

/** A started module: its service and whatever it started, which `stop` closes. */
export interface StartedModule<Service = unknown> {
  name: string;
  service: Service;
  /** As the module said at creation (`ModuleParts.enabled`). */
  enabled: boolean;
  stop(): Promise<void>;
}
