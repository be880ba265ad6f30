import type { Logger } from '../../core/log.js';
import type { ReadingsMetrics as Metrics } from './metrics.js';
import type { ReadingBatch } from '../../core/readings.js';
import type { SeriesEntry } from './catalog.js';

/** What the catalog says of a series besides its stats. */
export interface SeriesDescription {
  key: string;
  unit: string | null;
  kind: 'gauge' | 'counter' | 'interval';
}

/**
 * How readings are kept in one engine. DuckDB appends and dedupes later (duckdb-readings.ts);
 * PostgreSQL upserts on a primary key (postgres-readings.ts). Everything above — group commit,
 * queries, cache, routes — is shared.
 */
export interface ReadingsStorage {
  /** Commits the batches in one transaction; later rows win over earlier ones for the same (series, ts). */
  write(batches: ReadingBatch[], rows: number): Promise<void>;
  /** Sets the unit and kind of series in the catalog, creating those that do not exist yet. */
  describe(series: readonly SeriesDescription[]): Promise<void>;
  /** The catalog entries of `keys` that exist (all series when `keys` is undefined), sorted by key. */
  series(keys?: readonly string[]): Promise<SeriesEntry[]>;
  /** SQL yielding (series_id, ts, value), one row per (series, ts), for the readings matching `where`. */
  source(where: string, startMs: number, endMs: number): string;
  /** Engine-specific expressions: local-day bucket of `ts` in the zone bound to $1, first and last value. */
  readonly sql: { tzDayBucket: string; first: string; last: string };
  startBackground(options: { log: Logger; metrics: Metrics; intervalMs: number; quietMs: number }): void;
  compactNow(): Promise<void>;
  stop(): Promise<void>;
}
