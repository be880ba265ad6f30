import type { Store, StoreTx } from '../../../../core/store/index.js';
import { DAY_MS } from '../../../../core/time/timestamps.js';
import type { ZoneOffsets } from '../../../../core/time/zone-offsets.js';
import type { Aggregation, Bucket } from '../../plan.js';
import { fixedBucketSql } from '../standard-sql.js';
import type { PartitionTracker } from './partitions.js';

/**
 * Hourly rollups (table `readings_hourly`, migration 003): per series and UTC hour of a sorted day,
 * the count, sum, min, max, first and last reading. An aggregate whose buckets are whole hours
 * (1h, 1d, a local day in a zone whose offsets are whole hours) reads them for the sorted days
 * inside its range and the readings only for the rest: the range's partial hours at each end and
 * the days not sorted yet (today, late data). A year of one-minute readings is 8,760 rows a series
 * instead of 525,600.
 */

const HOUR_MS = 3_600_000;

const HOUR_ROLLUP_SQL = `SELECT series_id, ${fixedBucketSql(HOUR_MS)} AS hour, count(*) AS n, sum(value) AS sum,
  min(value) AS min, max(value) AS max, min(ts) AS first_ts, arg_min(value, ts) AS first_value,
  max(ts) AS last_ts, arg_max(value, ts) AS last_value
  FROM readings WHERE ts >= $1 AND ts < $2 GROUP BY 1, 2`;

/**
 * Rebuilds `day`'s rollups from its readings; in the transaction that marks the day sorted. A
 * series whose raw readings of the day were deleted by retention (`readings_pruned`) keeps its
 * rollups, merged with whatever readings came for the day since (late data adds to them; a
 * correction of a deleted reading is counted beside it, the old value being gone), and those
 * readings are deleted in turn, as retention would: merged once, never again. Answers the readings
 * deleted per series id (the caller takes them off the catalog's counts, as this takes them off
 * the stored ones).
 */
export async function rollUpDay(tx: StoreTx, day: number): Promise<Map<number, number>> {
  const lo = day * DAY_MS;
  const hi = lo + DAY_MS;
  const pruned = await tx.query<{ id: number }>(`SELECT series_id AS id FROM readings_pruned WHERE before_ts > $1`, [
    lo,
  ]);
  if (!pruned.length) {
    await tx.run(`DELETE FROM readings_hourly WHERE hour >= $1 AND hour < $2`, [lo, hi]);
    await tx.run(`INSERT INTO readings_hourly ${HOUR_ROLLUP_SQL} ORDER BY 1, 2`, [lo, hi]);
    return new Map();
  }
  const ids = pruned.map((p) => Number(p.id)).join(', ');
  await tx.run(
    `CREATE OR REPLACE TEMP TABLE day_rollup AS
     ${HOUR_ROLLUP_SQL}
     UNION ALL
     SELECT * FROM readings_hourly WHERE hour >= $1 AND hour < $2 AND series_id IN (${ids})`,
    [lo, hi],
  );
  await tx.run(`DELETE FROM readings_hourly WHERE hour >= $1 AND hour < $2`, [lo, hi]);
  await tx.run(
    `INSERT INTO readings_hourly
     SELECT series_id, hour, sum(n), sum(sum), min(min), max(max), min(first_ts), arg_min(first_value, first_ts),
            max(last_ts), arg_max(last_value, last_ts)
     FROM day_rollup GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  await tx.run(`DROP TABLE day_rollup`);
  // the merged readings of pruned series go: a later rewrite of the day must not merge them twice
  const merged = await tx.query<{ id: number; n: number }>(
    `SELECT series_id AS id, CAST(count(*) AS INTEGER) AS n FROM readings
     WHERE ts >= $1 AND ts < $2 AND series_id IN (${ids}) GROUP BY 1`,
    [lo, hi],
  );
  const removed = new Map(merged.map((r) => [Number(r.id), Number(r.n)]));
  if (removed.size) {
    await tx.run(`DELETE FROM readings WHERE ts >= $1 AND ts < $2 AND series_id IN (${ids})`, [lo, hi]);
    const values = [...removed].map(([id, n]) => `(${id}, ${n})`);
    await tx.run(
      `UPDATE series SET count = series.count - v.n FROM (VALUES ${values.join(', ')}) AS v(id, n) WHERE series.id = v.id`,
    );
  }
  return removed;
}

/** Whether every bucket is a union of whole UTC hours, so an hour's rollup falls into one bucket. */
export function bucketHoldsWholeHours(bucket: Bucket, offsets: ZoneOffsets | undefined): boolean {
  if (bucket.kind === 'fixed') return bucket.widthMs % HOUR_MS === 0;
  if (!offsets) return false;
  return offsets.offsetMs.every((o) => o % HOUR_MS === 0) && offsets.untilMs.every((t) => t % HOUR_MS === 0);
}

/**
 * The parts of [startMs, endMs] (end inclusive) the rollups answer, as [lo, hi) ranges: the whole
 * hours inside the range, less the days that are not sorted (they may hold readings the rollups do
 * not have yet). Days holding no readings count as sorted, so the ranges stay few. Empty when no
 * sorted day is in the range.
 */
export function rolledRanges(partitions: PartitionTracker, startMs: number, endMs: number): [number, number][] {
  const from = Math.ceil(startMs / HOUR_MS) * HOUR_MS;
  const to = Math.floor((endMs + 1) / HOUR_MS) * HOUR_MS;
  const ranges: [number, number][] = [];
  let anySorted = false;
  for (let day = Math.floor(from / DAY_MS); day * DAY_MS < to; day++) {
    const state = partitions.get(day);
    if (state === 'sorted') anySorted = true;
    else if (state !== undefined) continue;
    const lo = Math.max(from, day * DAY_MS);
    const hi = Math.min(to, (day + 1) * DAY_MS);
    const prev = ranges.at(-1);
    if (prev && prev[1] === lo) prev[1] = hi;
    else ranges.push([lo, hi]);
  }
  return anySorted ? ranges : [];
}

/**
 * How each aggregation is split: the partial columns over readings, the same columns from a
 * rollup row, and how the partials of a bucket combine.
 */
const PARTS: Record<Aggregation, { readings: string; rollup: string; combine: string }> = {
  min: { readings: 'min(value) AS x', rollup: 'min AS x', combine: 'min(x)' },
  max: { readings: 'max(value) AS x', rollup: 'max AS x', combine: 'max(x)' },
  sum: { readings: 'sum(value) AS x', rollup: 'sum AS x', combine: 'sum(x)' },
  count: { readings: 'count(*) AS x', rollup: 'n AS x', combine: 'CAST(sum(x) AS DOUBLE)' },
  avg: { readings: 'sum(value) AS x, count(*) AS y', rollup: 'sum AS x, n AS y', combine: 'sum(x) / sum(y)' },
  first: {
    readings: 'arg_min(value, ts) AS x, min(ts) AS y',
    rollup: 'first_value AS x, first_ts AS y',
    combine: 'arg_min(x, y)',
  },
  last: {
    readings: 'arg_max(value, ts) AS x, max(ts) AS y',
    rollup: 'last_value AS x, last_ts AS y',
    combine: 'arg_max(x, y)',
  },
};

/** The parts of [startMs, endMs] (end inclusive) outside `rolled` (sorted, disjoint), as inclusive [lo, hi] ranges. */
export function rangesOutside(rolled: readonly [number, number][], startMs: number, endMs: number): [number, number][] {
  const out: [number, number][] = [];
  let from = startMs;
  for (const [lo, hi] of rolled) {
    if (lo > from) out.push([from, lo - 1]);
    from = hi;
  }
  if (from <= endMs) out.push([from, endMs]);
  return out;
}

/** `col` in any of `ranges`. */
export function inRanges(col: string, ranges: readonly [number, number][]): string {
  return ranges.map(([lo, hi]) => `(${col} >= ${lo} AND ${col} < ${hi})`).join(' OR ');
}

/**
 * The aggregate over rollups and readings together. `readings` is the (series_id, ts, value) source
 * of the range's rest (outside `rolled`; none when the rollups cover it all); `bucket` turns a time
 * column into its bucket.
 */
export function rolledAggregateSql(options: {
  agg: Aggregation;
  seriesIds: readonly number[];
  rolled: readonly [number, number][];
  readings: string | undefined;
  bucket: (ts: string) => string;
}): string {
  const { readings, rollup, combine } = PARTS[options.agg];
  const fromReadings = options.readings
    ? `SELECT series_id, ${options.bucket('ts')} AS t, ${readings} FROM (${options.readings}) AS src GROUP BY 1, 2 UNION ALL`
    : '';
  return `SELECT series_id, t, ${combine} AS value FROM (
      ${fromReadings}
      SELECT series_id, ${options.bucket('hour')} AS t, ${rollup} FROM readings_hourly
      WHERE series_id IN (${options.seriesIds.join(', ')}) AND (${inRanges('hour', options.rolled)})
    ) AS parts GROUP BY 1, 2 ORDER BY 1, 2`;
}

/** The UTC month holding `day` (both as day numbers since 1970: the month's first day). */
export function monthOf(day: number): number {
  const d = new Date(day * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS;
}

export function monthAfter(month: number): number {
  const d = new Date(month * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / DAY_MS;
}

/** The months whose rollups are in (series, hour) order (`clusterMonth`). */
export async function loadClusteredMonths(store: Store): Promise<Set<number>> {
  const rows = await store.query<{ month: number }>(`SELECT month FROM readings_hourly_months`);
  return new Set(rows.map((r) => Number(r.month)));
}

/** The months whose readings were put in (series, ts) order (compactor.ts). */
export async function loadReadingsClusteredMonths(store: Store): Promise<Set<number>> {
  const rows = await store.query<{ month: number }>(`SELECT month FROM readings_clustered_months`);
  return new Set(rows.map((r) => Number(r.month)));
}

/**
 * Rewrites a month's rollups in (series, hour) order. They are written a day at a time, each day
 * holding every series, so a row group of them spans every series and one series' query reads
 * them all (a year of 1,000 series: 8.8M rows for 8,760); in (series, hour) order one series' month
 * is a few hundred neighbouring rows and DuckDB skips the row groups around them.
 */
export async function clusterMonth(tx: StoreTx, month: number) {
  const lo = month * DAY_MS;
  const hi = monthAfter(month) * DAY_MS;
  await tx.run(
    `CREATE OR REPLACE TEMP TABLE month_rollup AS
     SELECT * FROM readings_hourly WHERE hour >= $1 AND hour < $2 ORDER BY series_id, hour`,
    [lo, hi],
  );
  await tx.run(`DELETE FROM readings_hourly WHERE hour >= $1 AND hour < $2`, [lo, hi]);
  await tx.run(`INSERT INTO readings_hourly SELECT * FROM month_rollup ORDER BY series_id, hour`);
  await tx.run(`DROP TABLE month_rollup`);
  await tx.run(`INSERT INTO readings_hourly_months (month) VALUES ($1) ON CONFLICT DO NOTHING`, [month]);
}

/** A day of the month was rolled up again (appended out of order): the month is clustered anew later. */
export async function unclusterMonth(tx: StoreTx, month: number) {
  await tx.run(`DELETE FROM readings_hourly_months WHERE month = $1`, [month]);
}

/** Months over (before `nowMs`'s) whose every day is sorted, not clustered yet. */
export function monthsToCluster(
  days: Iterable<[number, string]>,
  clustered: ReadonlySet<number>,
  nowMs: number,
): number[] {
  const current = monthOf(Math.floor(nowMs / DAY_MS));
  const ready = new Map<number, boolean>();
  for (const [day, state] of days) {
    const month = monthOf(day);
    if (month >= current || clustered.has(month)) continue;
    ready.set(month, (ready.get(month) ?? true) && state === 'sorted');
  }
  return [...ready]
    .filter(([, ok]) => ok)
    .map(([month]) => month)
    .sort((a, b) => a - b);
}
