import type { Connector } from './connector.js';
import { connector as edgecom } from './edgecom/index.js';

/** Every pull source: a new connector is a folder and a line here. */
export const connectors: readonly Connector[] = [
  edgecom,
];
