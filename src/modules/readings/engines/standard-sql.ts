import type { Aggregation, ReadingsRange } from '../plan.js';

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
export function fixedBucketSql(widthMs: number): string {
  if (!Number.isSafeInteger(widthMs) || widthMs <= 0) throw new Error(`bucket width ${widthMs} is not a whole number`);
  return `ts - (((ts % ${widthMs}) + ${widthMs}) % ${widthMs})`;
}

/** The aggregations both engines spell alike (first and last differ). */
export const COMMON_AGGREGATE_SQL: Record<Exclude<Aggregation, 'first' | 'last'>, string> = {
  min: 'min(value)',
  max: 'max(value)',
  avg: 'avg(value)',
  sum: 'sum(value)',
  count: 'CAST(count(*) AS DOUBLE PRECISION)',
};
