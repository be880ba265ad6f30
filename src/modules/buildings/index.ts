import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, type ModuleContext } from '../../core/module.js';
import type { ReadingsService } from '../readings/index.js';
import { type Settings, settings } from './settings.js';
import { wsRoutes } from './ws.js';

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
  create(ctx: ModuleContext<Settings>, _deps: BuildingsDeps) {
    return {
      service: undefined,
      roles: {
        api: {
          routes: async (http) => {
            await http.register(wsRoutes(ctx, ctx.store));
          },
        },
      },
    };
  },
});
