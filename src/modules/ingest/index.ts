import type { CoreContext, StartedModule } from '../../core/module.js';
import type { ReadingsService } from '../readings/index.js';
import { registerIngestRoutes } from './routes.js';

/** The ingest module: write endpoints that turn input into reading batches on the bus. */
export async function startIngest(ctx: CoreContext, readings: Pick<ReadingsService, 'backlogRows'>): Promise<StartedModule> {
  if (ctx.roles.has('ingest')) {
    registerIngestRoutes(ctx.http, { bus: ctx.bus, keys: ctx.keys, metrics: ctx.metrics, settings: ctx.config.ingest, backlogRows: readings.backlogRows });
  }
  return { async stop() {} };
}
