import { bucketEdges } from '../../core/energy/edges.js';
import { type BucketValues, counterIncrease, gaugeIntegral, intervalSpread } from '../../core/energy/spread.js';
import { conversionFactor, energyUnitOf, integralFactor, isPowerUnit } from '../../core/energy/units.js';
import { InvalidInput } from '../../core/errors.js';
import { alignToWindow, startOfLocalDay, WINDOWS } from '../../core/time/buckets.js';
import type { PointsAround } from './around.js';
import type { Point, ReadingsQuery } from './query.js';
import type { SeriesEntry } from './storage.js';

/**
 * How one series of a query is answered: by the store's aggregate (`store`), or here over its
 * readings and their neighbours (core/energy): a counter's `increase`, a power gauge's `integral`,
 * or an interval series' `spread` (a sum whose window is shorter than the readings' interval).
 * `factor` turns the store's values (or the integral's unit × ms) into `unit`.
 */
export interface SeriesPlan {
  how: 'store' | 'increase' | 'integral' | 'spread';
  factor: number;
  unit: string | null;
  /** `spread`: how long each reading covers, in ms. */
  intervalMs: number;
}

const PUT_HINT = (key: string) => `set one (PUT /api/v1/series/${key})`;

/** The plan for a series, or a 400 naming `agg` (the series cannot answer it) or `unit` (it does not convert). */
export function planSeries(entry: SeriesEntry, q: ReadingsQuery): SeriesPlan {
  const { key, unit, kind } = entry;
  const refuse = (field: 'agg' | 'unit', why: string) =>
    new InvalidInput(`invalid_${field}`, `series "${key}" ${why}`, { field });
  // a count has no unit (parseQueryParams refuses one)
  if (q.agg === 'count' && q.window) return { how: 'store', factor: 1, unit: null, intervalMs: 0 };
  if (q.agg === 'integral') {
    if (unit === null) throw refuse('agg', `has no unit: ${PUT_HINT(key)} to say whether it holds power`);
    if (!isPowerUnit(unit))
      throw refuse('agg', `is in ${unit}, not in a power unit (W, kW, MW): integral is for power gauges`);
    if (kind !== 'gauge') throw refuse('agg', `is a ${kind} in ${unit}: integral is for power gauges`);
    const to = q.unit ?? energyUnitOf(unit)!;
    const factor = integralFactor(unit, to);
    if (factor === undefined) throw refuse('unit', `is in ${unit}: its integral is energy (Wh, kWh, MWh), not ${to}`);
    return { how: 'integral', factor, unit: to, intervalMs: 0 };
  }
  if (q.agg === 'increase' && kind !== 'counter')
    throw refuse('agg', `is a ${kind}, not a counter: increase is for cumulative meter readings (kind counter)`);
  let factor = 1;
  if (q.unit !== undefined) {
    if (unit === null) throw refuse('unit', `has no unit to convert from: ${PUT_HINT(key)}`);
    const f = conversionFactor(unit, q.unit);
    if (f === undefined)
      throw refuse(
        'unit',
        `is in ${unit}: it does not convert to ${q.unit} (power converts to power, energy to energy)`,
      );
    factor = f;
  }
  const out = { factor, unit: q.unit ?? unit, intervalMs: 0 };
  if (q.agg === 'increase' && q.window) return { how: 'increase', ...out };
  // a reading of an interval series is the energy of its whole interval: under a shorter window it is shared out
  const intervalMs = (entry.intervalS ?? 0) * 1000;
  if (q.agg === 'sum' && q.window && kind === 'interval' && intervalMs > WINDOWS[q.window])
    return { how: 'spread', ...out, intervalMs };
  return { how: 'store', ...out };
}

/**
 * A series' buckets worked out over its readings: the range is [start, end + 1) (the query's end is
 * inclusive), cut where that series' readings can cover it, so buckets no span reaches are never
 * built; each bucket is labelled with its aligned start (the first one clipped for the arithmetic).
 */
export function energyPoints(
  around: PointsAround,
  plan: SeriesPlan,
  q: ReadingsQuery,
  options: { maxGapMs: number; resetTolerance: number },
): Point[] {
  const { entry, points } = around;
  const window = q.window!;
  const from = Math.max(q.startMs, entry.firstTs);
  const to = Math.min(q.endMs + 1, entry.lastTs + 1 + plan.intervalMs);
  if (!(to > from)) return [];
  const zone = q.tz ?? 'UTC';
  const edges = bucketEdges(from, to, window, zone);
  const result: BucketValues =
    plan.how === 'increase'
      ? counterIncrease(points, edges, options)
      : plan.how === 'integral'
        ? gaugeIntegral(points, edges, options)
        : intervalSpread(points, edges, plan.intervalMs);
  const out: Point[] = [];
  for (let i = 0; i < result.values.length; i++) {
    if (!result.covered[i]) continue;
    const ts =
      i > 0 ? edges[i] : window === '1d' ? startOfLocalDay(edges[0], zone) : alignToWindow(edges[0], WINDOWS[window]);
    out.push({ ts, value: result.values[i] * plan.factor });
  }
  return out;
}
