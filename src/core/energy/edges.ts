import { DateTime } from 'luxon';
import { alignToWindow, WINDOWS, type WindowName } from '../time/buckets.js';

/** Windows of the energy functions: the fixed ones, and calendar weeks (from Monday) and months. */
export const ENERGY_WINDOWS = [...(Object.keys(WINDOWS) as WindowName[]), 'week', 'month'] as const;
export type EnergyWindow = (typeof ENERGY_WINDOWS)[number];

export function isEnergyWindow(value: string): value is EnergyWindow {
  return (ENERGY_WINDOWS as readonly string[]).includes(value);
}

/**
 * The bounds of the buckets covering [startMs, endMs), clipped to it: the first bucket starts at
 * `startMs` and the last ends at `endMs`, whatever the window's alignment, so the buckets of a
 * range always add up to the range. `1d`, `week` and `month` follow `zone` (local days of 23 or 25
 * hours at the clock changes); shorter windows are epoch-aligned. No window: one bucket.
 * Past `maxBuckets` it stops: the edges then hold maxBuckets + 1 buckets, more than the caller allows
 * (found by fuzzing: a 1m window over 50,000 years grew an array until V8 aborted the process).
 */
export function bucketEdges(
  startMs: number,
  endMs: number,
  window: EnergyWindow | undefined,
  zone = 'UTC',
  maxBuckets = Number.POSITIVE_INFINITY,
): Float64Array {
  if (!(endMs > startMs)) return new Float64Array(0);
  const edges = [startMs];
  if (window === '1d' || window === 'week' || window === 'month') {
    const unit = window === '1d' ? 'day' : window;
    let t = DateTime.fromMillis(startMs, { zone })
      .startOf(unit)
      .plus({ [`${unit}s`]: 1 });
    while (t.toMillis() < endMs && edges.length <= maxBuckets) {
      edges.push(t.toMillis());
      t = t.plus({ [`${unit}s`]: 1 });
    }
  } else if (window) {
    const width = WINDOWS[window];
    for (let t = alignToWindow(startMs, width) + width; t < endMs && edges.length <= maxBuckets; t += width)
      edges.push(t);
  }
  edges.push(endMs);
  return Float64Array.from(edges);
}

/** `edges` and the extra cut points inside them, merged and ascending, without duplicates. */
export function refineEdges(edges: Float64Array, cuts: readonly number[] | Float64Array): Float64Array {
  if (edges.length < 2) return edges;
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  const all = Float64Array.from([...edges, ...Array.from(cuts).filter((t) => t > lo && t < hi)]).sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[n - 1]) all[n++] = all[i];
  return all.subarray(0, n);
}
