import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DestinationStream } from 'pino';
import { denyByDefault } from './core/auth/access.js';
import { ApiKeys } from './core/auth/api-keys.js';
import { keysModule } from './core/auth/routes.js';
import { dlqModule } from './core/bus/dlq-routes.js';
import { type Bus, openBus } from './core/bus/index.js';
import type { Config } from './config.js';
import { createGrpcServer } from './core/grpc/server.js';
import { registerOperations } from './core/http/operations.js';
import { backupModule } from './core/backup/routes.js';
import { Connections } from './core/connections.js';
import { registerDashboardAssets, SAMPLE_FILE } from './core/http/dashboard.js';
import { createHttpServer } from './core/http/server.js';
import { createLogger } from './core/log.js';
import { createMetrics } from './core/metrics.js';
import { ROLES, type Role, type StartedModule } from './core/module.js';
import { type Core, startModule } from './core/modules.js';
import { createRateLimiter } from './core/rate-limit.js';
import { loadMigrations, openStore } from './core/store/index.js';
import { buildingsModule } from './modules/buildings/index.js';
import { devicesModule } from './modules/devices/index.js';
import { dailyModule } from './modules/daily/index.js';
import { dumpsModule } from './modules/dumps/index.js';
import { edgecomModule } from './modules/edgecom/index.js';
import { filesModule } from './modules/files/index.js';
import { flexModule } from './modules/flex/index.js';
import { ingestModule } from './modules/ingest/index.js';
import { ladaModule } from './modules/lada/index.js';
import { type ReadingsService, readingsModule } from './modules/readings/index.js';
import { readingsGrpcModule } from './modules/readings-grpc/index.js';
import { sensorlogModule } from './modules/sensorlog/index.js';
import { sourcesModule } from './modules/sources/index.js';

const root = path.dirname(fileURLToPath(import.meta.url));
const version = (JSON.parse(fs.readFileSync(path.join(root, '..', 'package.json'), 'utf8')) as { version: string })
  .version;

export interface Wattline {
  /** Base URL of the HTTP API, with the port actually bound. */
  url: string;
  /** gRPC target `host:port` with the port actually bound (undefined without the `api` role). */
  grpcUrl: string | undefined;
  grpcPort: number | undefined;
  ctx: Core;
  readings: ReadingsService;
  /** Stops listening, finishes in-flight batches, then closes modules and core in reverse order. */
  close(): Promise<void>;
}

/** A server that could not listen; `wattline serve` names the port's setting. */
export class ListenError extends Error {
  constructor(
    readonly server: 'HTTP' | 'gRPC',
    readonly host: string,
    readonly port: number,
    cause: Error,
  ) {
    super(`${server} cannot listen on ${host}:${port}: ${cause.message}`, { cause });
  }
}

export interface StartOptions {
  roles?: readonly Role[];
  logDestination?: DestinationStream;
  /** The clock modules read for "now" (tests inject one); Date.now otherwise. */
  now?: () => number;
  /**
   * Called with the bus as soon as it is open, before any module starts: a test (or an embedder)
   * that subscribes here sees what modules publish from their first moment (a job's run at start).
   */
  onBusOpen?: (bus: Bus) => void;
}

/** The composition root: config → core → modules → listen. */
export async function startWattline(config: Config, options: StartOptions = {}): Promise<Wattline> {
  // core
  const log = createLogger(config.logLevel, options.logDestination);
  const metrics = createMetrics();
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    poolSize: config.store.poolSize,
    schema: config.store.schema,
    duckdbMemoryLimit: config.store.duckdbMemoryLimit,
    duckdbThreads: config.store.duckdbThreads,
  });
  await store.migrate('core', loadMigrations(path.join(root, 'core', 'migrations'), store.kind));
  const bus = await openBus(config, log, metrics.registry);
  options.onBusOpen?.(bus);
  const keys = await ApiKeys.open({
    store,
    configured: config.apiKeys,
    dataDir: config.dataDir,
    recheckS: config.apiKeyRecheckS,
    log: log.child({ module: 'keys' }),
  });
  const roles = new Set(options.roles ?? ROLES);
  // the dashboard reads the API: served by processes that answer it
  const serveDashboard = roles.has('api');
  const http = await createHttpServer({
    log,
    metrics,
    version,
    limiter: createRateLimiter({ perSecond: config.rateLimit.httpPerSecond, burst: config.rateLimit.httpBurst }),
    isKnownKey: (key) => keys.isKnown(key),
    timeouts: config.http,
    dashboard: serveDashboard
      ? { timezone: config.timezone, sampleFile: SAMPLE_FILE, modules: () => modulesOn() }
      : undefined,
  });
  denyByDefault(http, { keys, requireReadKey: config.requireReadKey, publicPrefixes: ['/docs'] });
  if (serveDashboard) registerDashboardAssets(http);
  const grpc = createGrpcServer({
    log,
    metrics,
    keys,
    requireReadKey: config.requireReadKey,
    limiter: createRateLimiter({ perSecond: config.rateLimit.grpcPerSecond, burst: config.rateLimit.grpcBurst }),
  });
  const connections = new Connections();
  const core: Core = { config, log, registry: metrics.registry, store, bus, http, grpc, keys, roles, connections };
  registerOperations(http, { store, bus, metrics, connections });

  // modules, in dependency order: each gets its own settings and the services it uses
  const modules: StartedModule[] = [];
  const modulesOn = () => modules.filter((m) => m.enabled).map((m) => m.name);
  const start = async <S, D, T>(module: Parameters<typeof startModule<S, D, T>>[1], deps: D) => {
    const started = await startModule(core, module, config as S, deps);
    modules.push(started);
    return started.service;
  };
  await start(keysModule, {});
  await start(backupModule, {});
  await start(dlqModule, {});
  const readings = await start(readingsModule, {});
  await start(ingestModule, {});
  const edgecom = await start(edgecomModule, { readings });
  await start(readingsGrpcModule, { readings });
  const sources = await start(sourcesModule, { readings, connectors: edgecom.connectors });
  await start(dailyModule, { readings, sources });
  await start(sensorlogModule, { readings });
  await start(ladaModule, { readings });
  await start(dumpsModule, { readings });
  const buildings = await start(buildingsModule, {
    readings,
    now: options.now ?? Date.now,
    // for GET /api/v1/overview: every module is started by the time it is asked
    system: {
      version,
      roles: [...roles],
      modules: () => modules.map((m) => ({ name: m.name, state: m.enabled ? 'running' : 'off' })),
    },
  });
  await start(devicesModule, { readings, buildings, now: options.now ?? Date.now });
  await start(flexModule, { readings, buildings, now: options.now ?? Date.now });
  await start(filesModule, { readings, buildings, now: options.now ?? Date.now });

  await http.listen({ host: config.host, port: config.httpPort }).catch((err: Error) => {
    throw new ListenError('HTTP', config.host, config.httpPort, err);
  });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const hostInUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostInUrl}:${port}`;
  const grpcPort = roles.has('api')
    ? await grpc.listen(config.host, config.grpcPort).catch((err: Error) => {
        throw new ListenError('gRPC', config.host, config.grpcPort, err);
      })
    : undefined;
  const grpcUrl = grpcPort === undefined ? undefined : `${hostInUrl}:${grpcPort}`;
  log.info({ url, grpcUrl, roles: [...roles], store: store.kind, bus: bus.kind }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    grpcUrl,
    grpcPort,
    ctx: core,
    readings,
    close: () =>
      (closing ??= (async () => {
        // each step runs even if one before it failed: whatever was opened gets closed
        const step = (name: string, fn: () => Promise<void>) =>
          fn().catch((err) => log.error({ err }, `${name} failed to stop`));
        await step('http', () => http.close()); // waits for in-flight requests, whose batches are committed before they answer
        await step('grpc', () => grpc.close());
        for (const m of [...modules].reverse()) await step(m.name, () => m.stop());
        await step('bus', () => bus.close());
        await step('store', () => store.close());
        log.info('stopped');
      })()),
  };
}
