import type { Logger } from '../../core/log.js';
import type { ReadingsMetrics as Metrics } from './metrics.js';
import type { ReadingBatch } from '../../core/readings.js';
import type {
  AggregatePlan,
  EnergySpans,
  EnergySpansPlan,
  ExportSlicePlan,
  NearestPlan,
  RawPlan,
  ReadingColumns,
} from './plan.js';

/** What the catalog says of a series besides its stats. */
export interface SeriesDescription {
  key: string;
  unit: string | null;
  kind: 'gauge' | 'counter' | 'interval';
  /** Left as it is when undefined. */
  intervalS?: number | null;
  /** Left as it is when undefined. */
  description?: string | null;
  /** The series' tags (line protocol's, say), replacing those it had; left as they are when undefined. */
  tags?: Record<string, string>;
}

/** A series in the catalog, with its stats. */
export interface SeriesEntry {
  id: number;
  key: string;
  unit: string | null;
  kind: string;
  /** How long each reading of an `interval` series covers, in seconds (null: not said). */
  intervalS: number | null;
  description: string | null;
  /** Tags given with its readings (line protocol) or by a description; null: none. */
  tags: Record<string, string> | null;
  count: number;
  /** UTC epoch ms; Infinity / -Infinity while the series has no readings. */
  firstTs: number;
  lastTs: number;
  /** NaN while the series has no readings. */
  lastValue: number;
}

/** Which part of the catalog to list (`ReadingsStorage.listSeries`). */
export interface CatalogPage {
  prefix?: string;
  /** Only series having every one of these tags with this value. */
  tags?: Record<string, string>;
  afterKey?: string;
  limit: number;
}

/** What an engine's background work (the embedded store's compactor) runs with: readings' `compaction.*` settings. */
export interface BackgroundOptions {
  log: Logger;
  metrics: Metrics;
  intervalMs: number;
  quietMs: number;
  /** Longest a dirty day still being written waits for its rewrite (partitions.ts, dueForCompaction). */
  dirtyWaitMs: number;
  /** Most rows rewritten in one transaction: larger days are compacted a slice at a time. */
  sliceRows: number;
}

/**
 * How readings are kept and read in one engine: `engines/duckdb` appends and dedupes later,
 * `engines/postgres` upserts on a primary key. Reads take a typed plan (plan.ts) and each engine
 * writes its own SQL. Everything above — group commit, query parameters, fill, cache, routes — is
 * shared. `engines/index.ts` picks the engine for a store.
 */
export interface ReadingsStorage {
  /** Commits the batches in one transaction; later rows win over earlier ones for the same (series, ts). */
  write(batches: ReadingBatch[], rows: number): Promise<void>;
  /** Sets the unit and kind of series in the catalog, creating those that do not exist yet. */
  describe(series: readonly SeriesDescription[]): Promise<void>;
  /**
   * Removes a series: its readings and its catalog entry; false when there was none. Readings of
   * it still being written at that moment may come back as a new series of the same key.
   */
  deleteSeries(key: string): Promise<boolean>;
  /** The catalog entries of `keys` that exist (all series when `keys` is undefined), sorted by key. */
  series(keys?: readonly string[]): Promise<SeriesEntry[]>;
  /** A page of the catalog: at most `limit` entries whose key starts with `prefix` and sorts after `afterKey`, sorted by key. */
  listSeries(page: CatalogPage): Promise<SeriesEntry[]>;
  /** The time of the latest reading of any series, UTC epoch ms; -Infinity when there is none. */
  lastTs(): Promise<number>;
  /** One value per (series, bucket) that holds readings, sorted by series id, then time. */
  aggregate(plan: AggregatePlan): Promise<ReadingColumns>;
  /** The readings of the range, sorted by series id, then time; at most `plan.limit` rows. */
  raw(plan: RawPlan): Promise<ReadingColumns>;
  /** Per series, its first or last reading in the range (at most one row each), sorted by series id. */
  nearest(plan: NearestPlan): Promise<ReadingColumns>;
  /** Energy arithmetic over the spans between readings, summed per bucket where it can be (plan.ts). */
  energySpans(plan: EnergySpansPlan): Promise<EnergySpans>;
  /** The readings of a slice in time order (then series id), streamed a chunk at a time. */
  exportSlice(plan: ExportSlicePlan): AsyncIterable<ReadingColumns>;
  startBackground(options: BackgroundOptions): void;
  /**
   * Deletes the raw readings of `seriesIds` before `beforeMs` (rounded down to a UTC day), for whole
   * days whose aggregates are kept (the embedded store's hourly rollups), and never past a day not
   * rolled up yet. Answers the readings deleted and the time before which they now are; undefined
   * when this engine keeps no rollups (PostgreSQL): nothing is deleted.
   */
  pruneRaw(seriesIds: readonly number[], beforeMs: number): Promise<{ deleted: number; beforeMs: number } | undefined>;
  compactNow(): Promise<void>;
  stop(): Promise<void>;
}
