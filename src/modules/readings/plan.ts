/**
 * The typed query plan the query engine hands to a storage engine: what to read, never how.
 * Each engine turns a plan into its own SQL (bucket expressions, first/last, deduplication),
 * so no SQL text crosses from the module into an engine or back.
 */

/** What a store aggregates; the query's energy aggregations (increase, integral) are worked out above it (query-energy.ts). */
export const AGGREGATIONS = ['min', 'max', 'avg', 'sum', 'count', 'first', 'last'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/**
 * How readings are grouped in time. `fixed`: epoch-aligned buckets of `widthMs` (like TimescaleDB's
 * `time_bucket`, correct before 1970 too); `calendar`: local days in an IANA zone, 23 or 25 hours
 * long at the clock changes.
 */
export type Bucket = { kind: 'fixed'; widthMs: number } | { kind: 'calendar'; unit: 'day'; zone: string };

/** Readings of `seriesIds` (the catalog's ids) with `startMs ≤ ts ≤ endMs`, UTC epoch ms. */
export interface ReadingsRange {
  seriesIds: readonly number[];
  startMs: number;
  endMs: number;
}

/** One row per (series, bucket) holding readings; the bucket's start as its time. */
export interface AggregatePlan extends ReadingsRange {
  bucket: Bucket;
  agg: Aggregation;
}

/**
 * Per series, the reading nearest to a range's end on the outside: the last one with
 * `startMs ≤ ts ≤ endMs` (`side: 'last'`) or the first (`side: 'first'`). Energy arithmetic needs the
 * readings just before and just after its range, for spans that cross the range's ends.
 */
export interface NearestPlan extends ReadingsRange {
  side: 'first' | 'last';
}

/** The readings themselves, at most `limit` of them. */
export interface RawPlan extends ReadingsRange {
  limit: number;
}

/** A slice of an export: every series when `seriesIds` is undefined; `startMs ≤ ts ≤ endMs`. */
export interface ExportSlicePlan {
  seriesIds?: readonly number[];
  startMs: number;
  endMs: number;
}

/**
 * Rows `0 … length-1` of an answer, one typed array per column: a row's series id, its time (UTC
 * epoch ms; a bucket's start for aggregates) and its value. One row per (series, ts), the last
 * write winning.
 */
export interface ReadingColumns {
  length: number;
  seriesId: Float64Array;
  ts: Float64Array;
  value: Float64Array;
}

/**
 * Energy arithmetic done where the readings are (storage `energySpans`): the spans between
 * consecutive readings of each series, summed per bucket where a span lies wholly inside one
 * bucket and the range, and returned one by one where it crosses a bucket edge or the range's ends
 * (few: about one per bucket per series). See src/core/energy/spread.ts for the arithmetic.
 */
export interface EnergySpansPlan {
  seriesIds: readonly number[];
  /** The range, `startMs ≤ t < endMs` (may be fractional ms). */
  startMs: number;
  endMs: number;
  /** Buckets that nest inside the caller's buckets. */
  bucket: Bucket;
  /**
   * integral: trapezoids (v0 + v1) / 2 · (t1 − t0); increase: a counter's change, resets and jitter
   * as counterIncrease; interval: each reading covers [ts, ts + intervalMs).
   */
  method: 'integral' | 'increase' | 'interval';
  /** Spans longer than this: integral skips them, increase puts the change whole at the later reading. */
  maxGapMs: number;
  /** A drop from the previous reading beyond this fraction of it is a counter reset. */
  resetTolerance: number;
  /** A whole number of ms (interval only). */
  intervalMs: number;
  /**
   * Per series (same order as `seriesIds`), the readings read: `lo[i] ≤ ts ≤ hi[i]`, from the
   * nearest reading before the range to the nearest one after it, as the JS path reads them.
   */
  lo: readonly number[];
  hi: readonly number[];
}

/**
 * The answer of energySpans, columns of equal length. `inner[i] = 1`: the sum `x` of the
 * contributions that lie wholly inside the bucket starting at `t` (the SQL bucket's start, which may
 * be before the range's start). `inner[i] = 0`: one span crossing an edge, from (t0, v0) to (t, v1),
 * `x` the counter's change over it (increase) or the reading's value (interval, where t = t0 + intervalMs).
 */
export interface EnergySpans {
  length: number;
  seriesId: Float64Array;
  inner: Float64Array;
  t: Float64Array;
  x: Float64Array;
  t0: Float64Array;
  v0: Float64Array;
  v1: Float64Array;
}
