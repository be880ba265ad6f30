import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { fileURLToPath } from 'node:url';
import { defineModule, type ModuleContext } from '../../core/module.js';
import type { ReadingsService } from '../readings/index.js';
import { dataRoutes } from './data-routes.js';
import { roomsRoutes } from './rooms-routes.js';
import { sensorsRoutes } from './sensors-routes.js';
import { type Settings, settings } from './settings.js';

/** What the buildings module needs of others, and the clock it reads (tests inject one). */
export interface BuildingsDeps {
  readings: ReadingsService;
  now: () => number;
}

/**
 * Buildings (the Energy Dashboard's sensors module): a registry of sensors grouped into rooms, each
 * sensor's readings a Wattline series; room metrics, analytics and a live WebSocket on top.
 * Sensors and rooms live in the module's own tables (repository.ts); a sensor's last value and
 * time come from the series catalog.
 */
export const buildingsModule = defineModule({
  name: 'buildings',
  settings,
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  create(ctx: ModuleContext<Settings>, deps: BuildingsDeps) {
    const { store, bus, keys } = ctx;
    const { readings, now } = deps;
    const sensors = {
      store,
      bus,
      keys,
      readings,
      now,
      offlineAfterMs: ctx.settings.buildings.offlineAfterMs,
      timezone: ctx.core.timezone,
    };
    return {
      service: undefined,
      roles: {
        api: {
          routes: async (http: FastifyInstance) => {
            await http.register(sensorsRoutes(sensors));
            await http.register(roomsRoutes({ store, readings, now }));
            await http.register(dataRoutes({ store, readings, now }));
          },
        },
      },
    };
  },
});
