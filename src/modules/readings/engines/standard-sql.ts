import type { Aggregation, EnergySpansPlan, ReadingsRange } from '../plan.js';

/** SQL both engines write the same way; what differs between them stays in each engine's folder. */

/**
 * `WHERE` condition of a range, its numbers (catalog ids, epoch ms) inlined: each is checked to be
 * a whole number first, so no text from a client can reach the SQL.
 */
export function rangeCondition(range: Omit<ReadingsRange, 'seriesIds'> & { seriesIds?: readonly number[] }): string {
  const numbers = [range.startMs, range.endMs, ...(range.seriesIds ?? [])];
  const bad = numbers.find((n) => !Number.isSafeInteger(n));
  if (bad !== undefined) throw new Error(`a readings plan holds ${bad}, not a whole number`);
  const ids = range.seriesIds ? `series_id IN (${range.seriesIds.join(', ')}) AND ` : '';
  return `${ids}ts BETWEEN ${range.startMs} AND ${range.endMs}`;
}

/** Start of the epoch-aligned bucket of `ts` (also right for times before 1970, where `%` is negative). */
export function fixedBucketSql(widthMs: number, ts = 'ts'): string {
  if (!Number.isSafeInteger(widthMs) || widthMs <= 0) throw new Error(`bucket width ${widthMs} is not a whole number`);
  return `${ts} - (((${ts} % ${widthMs}) + ${widthMs}) % ${widthMs})`;
}

/** The aggregations both engines spell alike (first and last differ). */
export const COMMON_AGGREGATE_SQL: Record<Exclude<Aggregation, 'first' | 'last'>, string> = {
  min: 'min(value)',
  max: 'max(value)',
  avg: 'avg(value)',
  sum: 'sum(value)',
  count: 'CAST(count(*) AS DOUBLE PRECISION)',
};

/** A number of an energy plan, checked before it is inlined into SQL. */
function planNumber(n: number, what: string, whole = true): string {
  if (whole ? !Number.isSafeInteger(n) : !Number.isFinite(n)) throw new Error(`${what} ${n} is not a usable number`);
  return whole ? String(n) : `CAST(${n} AS DOUBLE PRECISION)`;
}

/**
 * The SQL of storage `energySpans` (plan.ts), the same in both engines: `source` answers
 * (series_id, ts, value), one row per (series, ts), for the plan's series and at least
 * [min lo, max hi]; `bucket(expr)` is the engine's bucket start of a time expression. Answers
 * (series_id, whole, t, x, t0, v0, v1) as EnergySpans describes: spans wholly inside one bucket and
 * the range are summed per bucket, the others come one per row (grouped by their unique end time).
 * A span [t0, t1) lies in the bucket of t1 − 1 when t0 is not before that bucket's start (times are
 * whole ms), so readings on bucket edges (a meter read on the half hour) make no crossing spans.
 */
export function energySpansSql(plan: EnergySpansPlan, source: string, bucket: (ts: string) => string): string {
  // the range's ends may be fractional ms (a µs timestamp); readings' times are whole
  const S = planNumber(plan.startMs, 'start', !Number.isInteger(plan.startMs) ? false : undefined);
  const E = planNumber(plan.endMs, 'end', !Number.isInteger(plan.endMs) ? false : undefined);
  const G = planNumber(plan.maxGapMs, 'maxGapMs');
  const n = plan.seriesIds.length;
  if (!n || plan.lo.length !== n || plan.hi.length !== n)
    throw new Error('an energy plan needs one read range per series');
  const lo = Math.min(...plan.lo);
  const hi = Math.max(...plan.hi);
  // Each series from its own neighbour before the range to its own after it, as the JS path reads
  // it (a counter's baseline starts there). Readings outside those only make spans outside the
  // range, which an integral leaves out anyway.
  const ownRange = plan.method !== 'integral' && plan.lo.some((t, i) => t !== lo || plan.hi[i] !== hi);
  const src = ownRange
    ? `bounds (series_id, lo, hi) AS (VALUES ${plan.seriesIds
        .map(
          (id, i) =>
            `(${planNumber(id, 'series id')}, ${planNumber(plan.lo[i], 'lo')}, ${planNumber(plan.hi[i], 'hi')})`,
        )
        .join(', ')}),
      src AS (SELECT s.series_id, s.ts, s.value FROM (${source}) AS s
        JOIN bounds ON s.series_id = bounds.series_id WHERE s.ts BETWEEN bounds.lo AND bounds.hi)`
    : `src AS (SELECT series_id, ts, value FROM (${source}) AS s
        WHERE ts BETWEEN ${planNumber(lo, 'lo')} AND ${planNumber(hi, 'hi')})`;
  const lagged = `SELECT series_id, ts, value, lag(ts) OVER w AS t0, lag(value) OVER w AS v0
    FROM src WINDOW w AS (PARTITION BY series_id ORDER BY ts)`;
  let classed: string;
  if (plan.method === 'integral') {
    classed = `spans AS (
        SELECT series_id, t0, v0, ts AS t1, value AS v1, ${bucket('(ts - 1)')} AS bm, (v0 + value) / 2 * (ts - t0) AS c
        FROM (${lagged}) AS l WHERE t0 IS NOT NULL AND ts - t0 <= ${G} AND ts > ${S} AND t0 < ${E}),
      classed AS (SELECT *, bm AS b1, (t0 >= ${S} AND t1 <= ${E} AND t0 >= bm) AS whole FROM spans)`;
  } else if (plan.method === 'increase') {
    const tol = planNumber(plan.resetTolerance, 'resetTolerance', false);
    // a reset is a drop from the previous reading beyond the tolerance; the baseline is the
    // highest reading since the last reset, so jitter is not counted twice (counterIncrease)
    classed = `flagged AS (
        SELECT *, CASE WHEN value < v0 - ${tol} * abs(v0) THEN 1 ELSE 0 END AS reset FROM (${lagged}) AS l),
      segmented AS (
        SELECT *, sum(reset) OVER (PARTITION BY series_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS seg FROM flagged),
      spans AS (
        SELECT series_id, t0, v0, ts AS t1, value AS v1, ts - t0 > ${G} AS gap,
          CASE WHEN reset = 1 THEN value ELSE max(value) OVER s - max(value) OVER before END AS c
        FROM segmented
        WINDOW s AS (PARTITION BY series_id, seg ORDER BY ts ROWS UNBOUNDED PRECEDING),
          before AS (PARTITION BY series_id, seg ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
      kept AS (
        SELECT *, CASE WHEN gap THEN ${bucket('t1')} ELSE ${bucket('(t1 - 1)')} END AS b1 FROM spans
        WHERE t0 IS NOT NULL AND ((gap AND t1 >= ${S} AND t1 < ${E}) OR (NOT gap AND t1 > ${S} AND t0 < ${E}))),
      -- across a gap the change goes whole to the bucket of the later reading
      classed AS (SELECT *, (gap OR (t0 >= ${S} AND t1 <= ${E} AND t0 >= b1)) AS whole FROM kept)`;
  } else {
    const I = planNumber(plan.intervalMs, 'intervalMs');
    const end = plan.intervalMs > 0 ? `(ts + ${I} - 1)` : 'ts';
    classed = `classed AS (
        SELECT series_id, ts AS t0, value AS v0, ts + ${I} AS t1, 0 AS v1, ${bucket(end)} AS b1, value AS c,
          (ts >= ${S} AND ts + ${I} <= ${E} AND ts < ${E} AND ts >= ${bucket(end)}) AS whole
        FROM src WHERE ts < ${E} AND (ts + ${I} > ${S} OR ts >= ${S}))`;
  }
  return `WITH ${src}, ${classed}
    SELECT series_id, whole, t, sum(c) AS x, min(t0) AS t0, min(v0) AS v0, min(v1) AS v1 FROM (
      SELECT series_id, CASE WHEN whole THEN 1 ELSE 0 END AS whole, CASE WHEN whole THEN b1 ELSE t1 END AS t, c, t0, v0, v1
      FROM classed) AS keyed
    GROUP BY series_id, whole, t`;
}
