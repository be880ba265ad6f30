import type { Connections } from './connections.js';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ApiKeys } from './auth/api-keys.js';
import type { Bus } from './bus/index.js';
import type { CoreConfig } from './config.js';
import type { GrpcServer } from './grpc/server.js';
import type { Logger } from './log.js';
import { ROLES, type Role, type StartedModule, type Stop, type WattlineModule } from './module.js';
import type { SettingsSchema } from './settings.js';
import { loadMigrations, type Store } from './store/index.js';

/** The core pieces modules are started on. */
export interface Core {
  config: CoreConfig;
  log: Logger;
  registry: Registry;
  store: Store;
  bus: Bus;
  http: FastifyInstance;
  grpc: GrpcServer;
  keys: ApiKeys;
  roles: ReadonlySet<Role>;
  connections: Connections;
}

/**
 * Runs a module's migrations, creates it with its settings and `deps`, then registers its routes
 * and gRPC services and starts its work for each role this process has, in role order.
 */
export async function startModule<Settings, Deps, Service>(
  core: Core,
  module: WattlineModule<Settings, Deps, Service>,
  /** The whole config: the module is given only the areas its schema declares. */
  config: Settings,
  deps: Deps,
): Promise<StartedModule<Service>> {
  const { store, http, grpc, roles } = core;
  if (module.migrations) await store.migrate(module.name, loadMigrations(module.migrations, store.kind));
  const parts = await module.create(
    {
      settings: ownAreas(config, module.settings),
      core: core.config,
      log: core.log.child({ module: module.name }),
      registry: core.registry,
      store,
      bus: core.bus,
      keys: core.keys,
      connections: core.connections,
    },
    deps,
  );
  const stops: Stop[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
    await parts.close?.();
  };
  try {
    for (const role of ROLES) {
      const part = parts.roles[role];
      if (!part || !roles.has(role)) continue;
      // work first: routes and services may use what it started
      if (part.start) stops.push(await part.start());
      if (part.routes) await http.register(part.routes, { prefix: module.prefix ?? '' });
      part.grpc?.(grpc);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: module.name, service: parts.service, enabled: parts.enabled ?? true, stop };
}

function ownAreas<Settings>(config: Settings, schema: SettingsSchema | undefined): Settings {
  if (!schema) return Object.freeze({}) as Settings;
  const own: Record<string, unknown> = {};
  for (const area of Object.keys(schema.shape)) own[area] = (config as Record<string, unknown>)[area];
  return Object.freeze(own) as Settings;
}
