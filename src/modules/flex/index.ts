import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, type ModuleContext } from '../../core/module.js';
import type { BuildingsService } from '../buildings/index.js';
import type { ReadingsService } from '../readings/index.js';
import { every } from '../../core/schedule.js';
import { demandResponseRoutes } from './routes/demand-response.js';
import { eventsRoutes } from './routes/events.js';
import { reportsRoutes } from './routes/reports.js';
import { createEvents } from './service.js';
import { type Settings, settings } from './settings.js';

export { DR_EVENTS, type DrDeviceMessage, type DrEventMessage, type DrMessage } from './events.js';

/** What the flex module needs of others, and the clock it reads (tests inject one). */
export interface FlexDeps {
  readings: ReadingsService;
  /** Devices are the buildings module's sensors. */
  buildings: BuildingsService;
  now: () => number;
}

/**
 * Demand response (the Energy Dashboard's second module, issue 17): invitations and their events,
 * answers by hand or automatically, device instructions, flexibility now and by forecast, and after
 * an event the kWh delivered against a BL01 baseline. Events move scheduled → active → completed
 * from the clock in role `jobs`; every change is broadcast on `dr_events`.
 */
export const flexModule = defineModule({
  name: 'flex',
  settings,
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  create(ctx: ModuleContext<Settings>, deps: FlexDeps) {
    const { store, bus, log } = ctx;
    const zone = ctx.core.timezone;
    const { schedulerMs, autoAnswerMs } = ctx.settings.flex;
    const events = createEvents({
      store,
      bus,
      buildings: deps.buildings,
      now: deps.now,
      zone,
      settings: ctx.settings.flex,
      log,
      registry: ctx.registry,
    });
    return {
      service: {},
      roles: {
        api: {
          routes: async (http) => {
            await http.register(demandResponseRoutes({ ...deps, store, events, zone }));
            await http.register(eventsRoutes({ store, events, zone }));
            await http.register(reportsRoutes({ ...deps, store, events, zone, settings: ctx.settings.flex }));
          },
        },
        jobs: {
          // the seed's two schedules: events moved on from the clock, and auto-answer
          start: () => {
            const stopScheduler = every(schedulerMs, 'demand-response scheduler', () => events.advance(), log);
            const stopAuto = every(autoAnswerMs, 'demand-response auto-answer', () => events.autoAnswer(), log);
            return async () => {
              await stopScheduler();
              await stopAuto();
            };
          },
        },
      },
    };
  },
});
