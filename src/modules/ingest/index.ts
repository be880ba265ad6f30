import type { CoreContext, StartedModule } from '../../core/module.js';
import { createParsePool } from './parse-pool.js';
import { registerIngestRoutes } from './routes.js';

/** The ingest module: write endpoints that turn input into reading batches on the bus. */
export async function startIngest(ctx: CoreContext): Promise<StartedModule> {
  if (!ctx.roles.has('ingest')) return { name: 'ingest', async stop() {} };
  const settings = ctx.config.ingest;
  const parsePool = createParsePool({
    workers: settings.parseWorkers,
    settings: {
      batchSize: settings.batchSize,
      maxLineBytes: settings.maxLineBytes,
      maxInvalidReported: settings.maxInvalidReported,
    },
    log: ctx.log.child({ module: 'ingest' }),
  });
  registerIngestRoutes(ctx.http, {
    bus: ctx.bus,
    keys: ctx.keys,
    metrics: ctx.metrics,
    parsePool,
  });
  return { name: 'ingest', stop: () => parsePool.close() };
}
