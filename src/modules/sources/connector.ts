import type { Settings as EdgecomSettings } from '../edgecom/settings.js';
import type { Reading } from '../../core/readings.js';
import type { SeriesDescription } from '../readings/index.js';
import type { Upstream } from './http.js';
import type { Settings } from './settings.js';

/**
 * What connectors read of the settings: the sources module's own areas, and the EdgeCom upstream's
 * (owned by the edgecom module, handed over by main).
 * TODO(#10): each connector is created with its own settings instead.
 */
export type ConnectorConfig = Settings & EdgecomSettings;

/**
 * A pull source. `fetch` reads one time range from upstream and maps it to readings; the runner
 * splits history into `chunkMs` pieces (what the upstream accepts), checkpoints each, and polls
 * the recent past every `pollMs` (overlapping windows write nothing twice: last write wins).
 */
export interface Connector {
  name: string;
  /** Why the connector is off with these settings (it says so at start), or undefined. */
  off(config: ConnectorConfig): string | undefined;
  chunkMs: number;
  bootstrapDays(config: ConnectorConfig): number;
  pollMs(config: ConnectorConfig): number;
  /** How far back each poll looks (more than the poll interval, so nothing late is missed). */
  lookbackMs: number;
  /** Units and kinds of the series it writes, for the catalog (set at start). */
  series(config: ConnectorConfig): SeriesDescription[];
  fetch(range: { fromMs: number; toMs: number }, upstream: Upstream, config: ConnectorConfig): Promise<Reading[]>;
}
