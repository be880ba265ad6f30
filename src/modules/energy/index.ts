import { defineModule, type ModuleContext } from '../../core/module.js';
import type { ReadingsService } from '../readings/index.js';
import { energyRoutes } from './routes.js';
import { createEnergyService, type EnergyService } from './service.js';
import { type Settings, settings } from './settings.js';

export type { EnergyService } from './service.js';

/**
 * Energy arithmetic as a service and an API: energy per bucket of any series by its kind (counter
 * increase, power integral, interval sum), and cost and carbon against step-function prices.
 * Other modules (daily, buildings) call the service instead of doing their own arithmetic.
 */
export const energyModule = defineModule({
  name: 'energy',
  settings,
  create(ctx: ModuleContext<Settings>, { readings }: { readings: Pick<ReadingsService, 'around'> }) {
    const service: EnergyService = createEnergyService(readings, ctx.settings.energy);
    return { service, roles: { api: { routes: energyRoutes(service) } } };
  },
});
