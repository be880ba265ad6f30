import { defineModule, type ModuleContext } from '../../core/module.js';
import { parseTimestamp } from '../../core/time/timestamps.js';
import { createIngestMetrics } from './metrics.js';
import { createParsePool, type ParsePool } from './parse-pool.js';
import { influxRoutes } from './influx-routes.js';
import { ingestRoutes } from './routes.js';
import { type Settings, settings } from './settings.js';

/** The ingest module: write endpoints that turn input into reading batches on the bus (role `ingest`). */
export const ingestModule = defineModule({
  name: 'ingest',
  settings,
  create(ctx: ModuleContext<Settings>, _deps: unknown) {
    const { ingest } = ctx.settings;
    const metrics = createIngestMetrics(ctx.registry);
    let parsePool!: ParsePool;
    return {
      service: undefined,
      roles: {
        ingest: {
          // parse workers are threads: only processes that take writes start them
          start: () => {
            parsePool = createParsePool({
              workers: ingest.parseWorkers,
              settings: {
                batchSize: ingest.batchSize,
                maxLineBytes: ingest.maxLineBytes,
                maxInvalidReported: ingest.maxInvalidReported,
                minTime: parseTimestamp(ingest.minTime),
                maxFutureMs: ingest.maxFutureMs,
              },
              log: ctx.log,
            });
            return () => parsePool.close();
          },
          routes: async (http) => {
            const deps = {
              bus: ctx.bus,
              maxDecompressedBytes: ingest.maxDecompressedBytes,
              metrics,
              parsePool: () => parsePool,
            };
            await http.register(ingestRoutes(deps));
            await http.register(influxRoutes({ ...deps, seriesTags: ingest.lineProtocolSeriesTags }));
          },
        },
      },
    };
  },
});
