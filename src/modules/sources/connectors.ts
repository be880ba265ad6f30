import { createCarbonIntensityConnector } from './carbon-intensity/index.js';
import type { Connector } from './connector.js';
import { createGenerationMixConnector } from './generation-mix/index.js';
import { createConsumptionConnector, createTariffConnector } from './octopus/index.js';
import type { Settings } from './settings.js';

/**
 * The sources module's own pull sources, each created with its settings area: a new connector is a
 * folder and a line here. Connectors of other modules (EdgeCom's) come in as `deps.connectors`.
 */
export const builtInConnectors = (settings: Settings): Connector[] => [
  createTariffConnector(settings.octopus),
  createConsumptionConnector(settings.octopus),
  createCarbonIntensityConnector(settings.carbon),
  createGenerationMixConnector(settings.carbon),
];
