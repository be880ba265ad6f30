import type { ModuleContext, RolePart } from '../../../core/module.js';
import type { Settings } from '../settings.js';
import type { DeviceSink } from '../sink.js';
import { type Poller, startPoller } from './poller.js';
import { syncSettingsTargets } from './repository.js';
import { devicesRoutes } from './routes.js';

/**
 * Polled devices: the poller (role `jobs`, which first makes the stored list match `devices.poll`)
 * and the devices API (role `api`).
 */
export function createPolling(
  ctx: ModuleContext<Settings>,
  sink: DeviceSink,
  now: () => number,
): { jobs: RolePart; api: RolePart } {
  const deps = { store: ctx.store, sink, log: ctx.log, now, settings: ctx.settings.devices, zone: ctx.core.timezone };
  let poller: Poller | undefined;
  return {
    jobs: {
      start: async () => {
        await syncSettingsTargets(deps.store, deps.settings.poll, deps.now());
        const started = startPoller(deps);
        poller = started;
        return () => started.stop();
      },
    },
    api: { routes: devicesRoutes({ store: deps.store, now: deps.now, changed: () => void poller?.refresh() }) },
  };
}
