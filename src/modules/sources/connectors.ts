import type { Connector } from './connector.js';
import { connector as carbonIntensity } from './carbon-intensity/index.js';
import { connector as edgecom } from './edgecom/index.js';
import { connector as generationMix } from './generation-mix/index.js';
import { consumptionConnector as octopusConsumption, tariffConnector as octopusTariff } from './octopus/index.js';

/** Every pull source: a new connector is a folder and a line here. */
export const connectors: readonly Connector[] = [
  edgecom,
  octopusTariff,
  octopusConsumption,
  carbonIntensity,
  generationMix,
];
