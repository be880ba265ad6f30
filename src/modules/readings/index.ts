import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { READINGS_TOPIC, type ReadingBatch } from '../../core/readings.js';
import type { CoreContext, StartedModule } from '../../core/module.js';
import { loadMigrations } from '../../core/store/index.js';
import { startCompactor } from './compactor.js';
import { Persistor } from './persistor.js';
import { createQueryEngine, type SeriesPoints } from './query.js';
import { QueryCache } from './query-cache.js';
import { registerReadingsRoutes } from './routes.js';

export type { ReadingsQuery, SeriesPoints, Aggregation, Fill } from './query.js';
export { parseQueryParams } from './query.js';

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** What other modules may use of readings: queries, and the write backlog for backpressure. */
export interface ReadingsService extends StartedModule {
  query: ReturnType<typeof createQueryEngine>['run'];
  /** Rows published but not yet committed in this process (0 when this process does not persist). */
  backlogRows(): number;
  /** Compacts every partition that is due now (benchmarks and tests use it to skip the wait). */
  compactNow(): Promise<void>;
}

/**
 * The readings module: series catalog, persistor (bus → store, group commit), compactor, query
 * engine with its cache, and the query routes.
 */
export async function startReadings(ctx: CoreContext): Promise<ReadingsService> {
  const { store, bus, log, metrics, config } = ctx;
  await store.migrate('readings', loadMigrations(migrationsDir, store.kind));
  const moduleLog = log.child({ module: 'readings' });
  const cache = new QueryCache<SeriesPoints[]>(config.query.cacheSize);
  const persistor = await Persistor.create({
    store,
    log: moduleLog,
    metrics,
    maxBatchRows: config.persist.maxBatchRows,
    lingerMs: config.persist.lingerMs,
    catalogSaveMs: config.persist.catalogSaveMs,
    onCommitted: (ranges) => cache.invalidate(ranges),
  });
  const persisting = ctx.roles.has('persist');
  const stopConsuming = persisting ? bus.consume<ReadingBatch>(READINGS_TOPIC, (batch) => persistor.write(batch)) : () => undefined;
  const compactor = persisting
    ? startCompactor({ store, partitions: persistor.partitions, catalog: persistor.catalog, log: moduleLog, metrics, intervalMs: config.compaction.intervalMs, quietMs: config.compaction.quietMs })
    : undefined;
  const engine = createQueryEngine({ store, catalog: persistor.catalog, partitions: persistor.partitions, cache, metrics, maxPoints: config.query.maxPoints });
  if (ctx.roles.has('api')) registerReadingsRoutes(ctx.http, { engine, catalog: persistor.catalog, keys: ctx.keys, requireReadKey: config.requireReadKey });

  return {
    name: 'readings',
    query: engine.run,
    backlogRows: () => persistor.backlogRows,
    compactNow: async () => compactor?.runNow(),
    async stop() {
      stopConsuming();
      await persistor.flush();
      await compactor?.stop();
    },
  };
}
