import type { Store } from '../../../../core/store/index.js';
import type { AggregatePlan, Aggregation } from '../../plan.js';
import { fixedBucketSql } from '../standard-sql.js';

/**
 * Hourly rollups in PostgreSQL (migration 006): per series and UTC hour, the count, sum, min, max,
 * first and last reading. A commit marks the hours it wrote (`readings_hours_dirty`, in the upsert's
 * own statement); `rollUpDirtyHours` recomputes marked hours from the readings and clears their
 * marks in one transaction, so a query's snapshot sees an hour either marked (read from the
 * readings) or rolled up with everything committed before. An aggregate whose buckets are whole
 * hours reads the rollups for the unmarked whole hours of its range and the readings for the rest.
 */

export const HOUR_MS = 3_600_000;

/** The SQL that marks the hours of the rows a commit wrote (a CTE of the upsert: `written`). */
export const MARK_WRITTEN_HOURS_SQL = `INSERT INTO readings_hours_dirty (series_id, hour)
  SELECT DISTINCT series_id, ${fixedBucketSql(HOUR_MS)} FROM written ON CONFLICT DO NOTHING`;

/** Hours rolled up per transaction: a backlog (an import, the migration's first run) goes in parts. */
const HOURS_PER_RUN = 20_000;

/**
 * Recomputes the marked hours from the readings, a part at a time; answers how many it did. Hours
 * that no longer hold readings (a deleted series) lose their rollups.
 */
export async function rollUpDirtyHours(store: Store): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await store.transaction(async (tx) => {
      const [row] = await tx.query<{ n: number }>(
        `WITH taken AS (
           DELETE FROM readings_hours_dirty WHERE (series_id, hour) IN (
             SELECT series_id, hour FROM readings_hours_dirty ORDER BY series_id, hour LIMIT ${HOURS_PER_RUN}
             FOR UPDATE SKIP LOCKED)
           RETURNING series_id, hour
         ), gone AS (
           DELETE FROM readings_hourly h USING taken t
           WHERE h.series_id = t.series_id AND h.hour = t.hour AND NOT EXISTS (
             SELECT 1 FROM readings r WHERE r.series_id = t.series_id AND r.ts >= t.hour AND r.ts < t.hour + ${HOUR_MS})
         ), rolled AS (
           INSERT INTO readings_hourly
           SELECT r.series_id, t.hour, count(*), sum(r.value), min(r.value), max(r.value),
                  min(r.ts), (array_agg(r.value ORDER BY r.ts))[1], max(r.ts), (array_agg(r.value ORDER BY r.ts DESC))[1]
           FROM taken t JOIN readings r ON r.series_id = t.series_id AND r.ts >= t.hour AND r.ts < t.hour + ${HOUR_MS}
           GROUP BY r.series_id, t.hour
           ON CONFLICT (series_id, hour) DO UPDATE SET n = excluded.n, sum = excluded.sum, min = excluded.min,
             max = excluded.max, first_ts = excluded.first_ts, first_value = excluded.first_value,
             last_ts = excluded.last_ts, last_value = excluded.last_value
         )
         SELECT CAST(count(*) AS INTEGER) AS n FROM taken`,
      );
      return row?.n ?? 0;
    });
    total += done;
    if (done < HOURS_PER_RUN) return total;
  }
}

/** How each aggregation is split over readings and rollup rows, and how a bucket's parts combine. */
const PARTS: Record<Aggregation, { readings: string; rollup: string; combine: string }> = {
  min: { readings: 'min(value) AS x, 0 AS y', rollup: 'min AS x, 0 AS y', combine: 'min(x)' },
  max: { readings: 'max(value) AS x, 0 AS y', rollup: 'max AS x, 0 AS y', combine: 'max(x)' },
  sum: { readings: 'sum(value) AS x, 0 AS y', rollup: 'sum AS x, 0 AS y', combine: 'sum(x)' },
  count: { readings: 'count(*) AS x, 0 AS y', rollup: 'n AS x, 0 AS y', combine: 'CAST(sum(x) AS DOUBLE PRECISION)' },
  avg: { readings: 'sum(value) AS x, count(*) AS y', rollup: 'sum AS x, n AS y', combine: 'sum(x) / sum(y)' },
  first: {
    readings: '(array_agg(value ORDER BY ts))[1] AS x, min(ts) AS y',
    rollup: 'first_value AS x, first_ts AS y',
    combine: '(array_agg(x ORDER BY y))[1]',
  },
  last: {
    readings: '(array_agg(value ORDER BY ts DESC))[1] AS x, max(ts) AS y',
    rollup: 'last_value AS x, last_ts AS y',
    combine: '(array_agg(x ORDER BY y DESC))[1]',
  },
};

/**
 * The aggregate over rollups and readings, or undefined when the buckets are not whole hours (or
 * the range holds no whole hour): the rollups answer the range's whole hours that are not marked,
 * the readings its partial hours at each end and the marked hours.
 */
export function rolledAggregateSql(plan: AggregatePlan, ids: string): string | undefined {
  if (plan.bucket.kind !== 'fixed' || plan.bucket.widthMs % HOUR_MS !== 0) return undefined;
  const from = Math.ceil(plan.startMs / HOUR_MS) * HOUR_MS;
  const to = Math.floor((plan.endMs + 1) / HOUR_MS) * HOUR_MS;
  if (to <= from) return undefined;
  const { readings, rollup, combine } = PARTS[plan.agg];
  const bucket = (ts: string) => fixedBucketSql((plan.bucket as { widthMs: number }).widthMs, ts);
  const hourOf = fixedBucketSql(HOUR_MS, 'r.ts');
  return `WITH dirty AS (
      SELECT series_id, hour FROM readings_hours_dirty
      WHERE series_id IN (${ids}) AND hour >= ${from} AND hour < ${to}
    )
    SELECT series_id, t AS ts, ${combine} AS value FROM (
      SELECT series_id, ${bucket('ts')} AS t, ${readings} FROM readings r
      WHERE series_id IN (${ids}) AND ts BETWEEN ${plan.startMs} AND ${plan.endMs}
        AND (ts < ${from} OR ts >= ${to} OR (series_id, ${hourOf}) IN (SELECT series_id, hour FROM dirty))
      GROUP BY 1, 2
      UNION ALL
      SELECT series_id, ${bucket('hour')} AS t, ${rollup} FROM readings_hourly h
      WHERE series_id IN (${ids}) AND hour >= ${from} AND hour < ${to}
        AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.series_id = h.series_id AND d.hour = h.hour)
    ) AS parts GROUP BY 1, 2 ORDER BY 1, 2`;
}
