import { DateTime } from 'luxon';
import type { SeriesPoints } from './spread.js';

/**
 * Prices (or carbon intensities) as a step function: each reading holds from its time until the
 * next reading, and at most `holdMs` when the series says how long one holds (a half-hourly tariff:
 * 30 minutes), so a price that stopped arriving is missing, never the last one repeated forever.
 */
export interface Steps {
  points: SeriesPoints;
  holdMs?: number;
}

/** The times inside (lo, hi) where a step's value changes or runs out: where energy must be cut. */
export function stepCuts(steps: Steps, lo: number, hi: number): number[] {
  const cuts: number[] = [];
  const { ts, length } = steps.points;
  for (let k = 0; k < length; k++) {
    const t = ts[k];
    if (t > lo && t < hi) cuts.push(t);
    if (steps.holdMs !== undefined) {
      const end = t + steps.holdMs;
      if (end > lo && end < hi && (k + 1 >= length || ts[k + 1] > end)) cuts.push(end);
    }
  }
  return cuts;
}

/** The value in force at each segment start of `edges` (NaN where none is), one pass. */
export function stepValues(steps: Steps, edges: Float64Array): Float64Array {
  const n = Math.max(0, edges.length - 1);
  const out = new Float64Array(n).fill(Number.NaN);
  const { ts, value, length } = steps.points;
  let k = -1; // the last step at or before the segment start
  for (let i = 0; i < n; i++) {
    const t = edges[i];
    while (k + 1 < length && ts[k + 1] <= t) k++;
    if (k < 0) continue;
    if (steps.holdMs !== undefined && t >= ts[k] + steps.holdMs) continue;
    out[i] = value[k];
  }
  return out;
}

export interface PricedBuckets {
  /** Per bucket: all energy, the priced part's cost, energy without a price, segments without a price. */
  energy: Float64Array;
  cost: Float64Array;
  unpricedEnergy: Float64Array;
  missingSlots: Int32Array;
  /** Per bucket, whether any energy reading covered it. */
  covered: Uint8Array;
}

/**
 * Multiplies energy by price segment by segment and adds the segments up per bucket. `fine` are the
 * bucket edges refined with the price's cuts (refineEdges + stepCuts), `fineEnergy` the energy of
 * each fine segment, `bucketEdges` the buckets to answer: every bucket edge is a fine edge.
 */
export function priceSegments(
  bucketEdges: Float64Array,
  fine: Float64Array,
  fineEnergy: { values: Float64Array; covered: Uint8Array },
  prices: Float64Array,
): PricedBuckets {
  const n = Math.max(0, bucketEdges.length - 1);
  const out: PricedBuckets = {
    energy: new Float64Array(n),
    cost: new Float64Array(n),
    unpricedEnergy: new Float64Array(n),
    missingSlots: new Int32Array(n),
    covered: new Uint8Array(n),
  };
  let b = 0;
  for (let i = 0; i < fine.length - 1; i++) {
    while (b < n - 1 && fine[i] >= bucketEdges[b + 1]) b++;
    if (!fineEnergy.covered[i]) continue;
    const e = fineEnergy.values[i];
    out.covered[b] = 1;
    out.energy[b] += e;
    const p = prices[i];
    if (Number.isNaN(p)) {
      out.unpricedEnergy[b] += e;
      out.missingSlots[b]++;
    } else {
      out.cost[b] += e * p;
    }
  }
  return out;
}

/**
 * The standing charge (per local day, in force at the day's start) attributed to each bucket in
 * proportion to the part of its local day the bucket covers, so a day's buckets add up to the day's
 * charge and an hourly bucket carries 1/24 of it (1/23 or 1/25 on clock-change days).
 * NaN for a bucket whose day has no charge in force.
 */
export function standingPerBucket(bucketEdges: Float64Array, charges: Steps, zone: string): Float64Array {
  const n = Math.max(0, bucketEdges.length - 1);
  const out = new Float64Array(n);
  if (n === 0) return out;
  // the local days the range touches, each with the charge in force at its start
  const dayEdges: number[] = [];
  let day = DateTime.fromMillis(bucketEdges[0], { zone }).startOf('day');
  while (day.toMillis() < bucketEdges[n]) {
    dayEdges.push(day.toMillis());
    day = day.plus({ days: 1 });
  }
  dayEdges.push(day.toMillis());
  const days = Float64Array.from(dayEdges);
  const charge = stepValues(charges, days);
  // buckets and days walked together; a bucket may cross midnights (a week, a month)
  let d = 0;
  for (let i = 0; i < n; i++) {
    let t = bucketEdges[i];
    const end = bucketEdges[i + 1];
    while (t < end) {
      while (days[d + 1] <= t) d++;
      const upTo = Math.min(end, days[d + 1]);
      out[i] += (charge[d] * (upTo - t)) / (days[d + 1] - days[d]);
      t = upTo;
    }
  }
  return out;
}
