import type { Reading } from '../../core/readings.js';
import type { SeriesDescription } from '../readings/index.js';
import type { Upstream } from './http.js';

/**
 * A pull source, created with its own settings (`createXConnector(settings.area)`). `fetch` reads
 * one time range from upstream and maps it to readings; the runner splits ranges into `chunkMs`
 * pieces (what the upstream accepts), checkpoints each finished one, and keeps the data filled from
 * the last stored reading to now (overlapping windows write nothing twice: last write wins).
 */
export interface Connector {
  name: string;
  /** Why the connector is off with its settings (it says so at start), or undefined. */
  off?: string;
  chunkMs: number;
  /** Days of history kept filled (0: none; `wattline bootstrap` fetches any range). */
  bootstrapDays: number;
  pollMs: number;
  /** How far back each poll looks at least (more than the poll interval, so nothing late is missed). */
  lookbackMs: number;
  /** Units, kinds, intervals and descriptions of the series it writes, for the catalog (set at start). */
  series: SeriesDescription[];
  fetch(range: { fromMs: number; toMs: number }, upstream: Upstream): Promise<Reading[]>;
}
