import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DestinationStream } from 'pino';
import { ApiKeys } from './core/auth/api-keys.js';
import { registerKeyRoutes } from './core/auth/routes.js';
import { createInProcessBus } from './core/bus/index.js';
import type { Config } from './core/config.js';
import { registerOperations } from './core/http/operations.js';
import { createHttpServer } from './core/http/server.js';
import { createLogger } from './core/log.js';
import { createMetrics } from './core/metrics.js';
import { ROLES, type CoreContext, type Role, type StartedModule } from './core/module.js';
import { loadMigrations, openStore } from './core/store/index.js';
import { startIngest } from './modules/ingest/index.js';
import { startReadings, type ReadingsService } from './modules/readings/index.js';

const root = path.dirname(fileURLToPath(import.meta.url));
const version = (JSON.parse(fs.readFileSync(path.join(root, '..', 'package.json'), 'utf8')) as { version: string }).version;

export interface Wattline {
  /** Base URL of the HTTP API, with the port actually bound. */
  url: string;
  ctx: CoreContext;
  readings: ReadingsService;
  /** Stops listening, finishes in-flight batches, then closes modules and core in reverse order. */
  close(): Promise<void>;
}

export interface StartOptions {
  roles?: readonly Role[];
  logDestination?: DestinationStream;
}

/** The composition root: config → core → modules → listen. */
export async function startWattline(config: Config, options: StartOptions = {}): Promise<Wattline> {
  // core
  const log = createLogger(config.logLevel, options.logDestination);
  const metrics = createMetrics();
  const store = await openStore({ dataDir: config.dataDir });
  await store.migrate('core', loadMigrations(path.join(root, 'core', 'migrations'), store.kind));
  const bus = createInProcessBus();
  const keys = await ApiKeys.open({ store, configured: config.apiKeys, dataDir: config.dataDir });
  const http = await createHttpServer({ log, metrics, version });
  const ctx: CoreContext = { config, log, metrics, store, bus, http, keys, roles: new Set(options.roles ?? ROLES) };
  registerOperations(http, { store, bus, metrics });
  registerKeyRoutes(http, keys);

  // modules, in dependency order
  const readings = await startReadings(ctx);
  const ingest = await startIngest(ctx, readings);
  const modules: StartedModule[] = [readings, ingest];

  await http.listen({ host: config.host, port: config.httpPort });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, roles: [...ctx.roles], store: store.kind, bus: bus.kind }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    ctx,
    readings,
    close: () =>
      (closing ??= (async () => {
        // each step runs even if one before it failed: whatever was opened gets closed
        const step = (name: string, fn: () => Promise<void>) => fn().catch((err) => log.error({ err }, `${name} failed to stop`));
        await step('http', () => http.close()); // waits for in-flight requests, whose batches are committed before they answer
        for (const m of [...modules].reverse()) await step(m.name, () => m.stop());
        await step('bus', () => bus.close());
        await step('store', () => store.close());
        log.info('stopped');
      })()),
  };
}
