/**
 * Energy arithmetic over one series' readings, in one pass over typed arrays: a counter's
 * increase, a power gauge's integral and an interval series' energy, each split at bucket edges.
 *
 * `edges` are the buckets' bounds, ascending: bucket i is [edges[i], edges[i+1]); readings outside
 * [edges[0], edges[last]) contribute only the part of their span that falls inside. Pass the
 * reading just before the range and the one just after it, so spans crossing the range's ends count.
 * Each function answers a value per bucket and whether anything covered the bucket: a span between
 * two readings overlapping it, or a change put into it. An uncovered bucket has no data, which is
 * not the same as zero energy (a lone reading says what the meter showed, not what it used).
 */
export interface SeriesPoints {
  /** UTC epoch ms, ascending, one reading per time. */
  ts: Float64Array;
  value: Float64Array;
  length: number;
}

export interface BucketValues {
  values: Float64Array;
  /** 1 where a span between readings (or a change put whole) fell in the bucket. */
  covered: Uint8Array;
}

export function empty(edges: Float64Array): BucketValues {
  const n = Math.max(0, edges.length - 1);
  return { values: new Float64Array(n), covered: new Uint8Array(n) };
}

/** Index of the bucket holding `t`, searching forward from `from` (times only grow); -1 before, n after. */
function bucketAt(edges: Float64Array, t: number, from: number): number {
  const n = edges.length - 1;
  if (t < edges[0]) return -1;
  let i = Math.max(0, from);
  while (i < n && edges[i + 1] <= t) i++;
  return i;
}

/**
 * Adds `amount`, spread evenly over [t0, t1), to the buckets it overlaps; returns the bucket index
 * to resume the search from.
 */
export function spreadEvenly(
  out: BucketValues,
  edges: Float64Array,
  t0: number,
  t1: number,
  amount: number,
  hint: number,
) {
  const n = edges.length - 1;
  const first = bucketAt(edges, t0, hint);
  const span = t1 - t0;
  for (let i = Math.max(first, 0); i < n && edges[i] < t1; i++) {
    const overlap = Math.min(t1, edges[i + 1]) - Math.max(t0, edges[i]);
    if (overlap <= 0) continue;
    out.values[i] += (amount * overlap) / span;
    out.covered[i] = 1;
  }
  return first;
}

/** Puts `amount` whole into the bucket holding `t`, if the range holds it. */
function addAt(out: BucketValues, edges: Float64Array, t: number, amount: number, hint: number) {
  const i = bucketAt(edges, t, hint);
  if (i >= 0 && i < edges.length - 1) {
    out.values[i] += amount;
    out.covered[i] = 1;
  }
  return i;
}

export interface CounterOptions {
  /** A decrease larger than this fraction of the previous value is a meter reset (0.001 = 0.1 %). */
  resetTolerance: number;
  /** Across a longer gap, the change is put whole into the bucket of the later reading. */
  maxGapMs: number;
}

/**
 * A cumulative meter's consumption per bucket. The change between consecutive readings is spread
 * linearly over the time between them, so the buckets sum exactly to the meter's change over the
 * range. A drop from the previous reading beyond `resetTolerance` of it is a reset (counting
 * resumes from the new value, as if from zero); a smaller one is jitter, ignored without lowering
 * the baseline (the highest reading since the last reset), so the next rise is not counted twice.
 * The storage engines' SQL (energySpans) follows the same rule.
 */
export function counterIncrease(points: SeriesPoints, edges: Float64Array, options: CounterOptions): BucketValues {
  const out = empty(edges);
  if (points.length === 0 || edges.length < 2) return out;
  const { ts, value } = points;
  let baseline = value[0];
  let hint = 0;
  for (let k = 1; k < points.length; k++) {
    const t0 = ts[k - 1];
    const t1 = ts[k];
    const v = value[k];
    const previous = value[k - 1];
    let change: number;
    if (v < previous - options.resetTolerance * Math.abs(previous)) {
      change = v; // a reset: the meter started again from zero
      baseline = v;
    } else if (v >= baseline) {
      change = v - baseline;
      baseline = v;
    } else {
      change = 0; // jitter: keep the higher baseline
    }
    if (t1 - t0 > options.maxGapMs) {
      hint = addAt(out, edges, t1, change, hint);
    } else {
      hint = spreadEvenly(out, edges, t0, t1, change, hint);
    }
  }
  return out;
}

/**
 * A gauge's time integral per bucket (its unit × milliseconds; see units.ts `integralFactor`):
 * trapezoids between consecutive readings, cut exactly at bucket edges. Gaps longer than
 * `maxGapMs` are not bridged: nothing is known of what happened in them.
 */
export function gaugeIntegral(points: SeriesPoints, edges: Float64Array, options: { maxGapMs: number }): BucketValues {
  const out = empty(edges);
  if (points.length === 0 || edges.length < 2) return out;
  const { ts, value } = points;
  let hint = 0;
  for (let k = 1; k < points.length; k++) {
    const t0 = ts[k - 1];
    const t1 = ts[k];
    if (t1 - t0 > options.maxGapMs || t1 <= t0) continue;
    hint = addTrapezoid(out, edges, t0, value[k - 1], t1, value[k], hint);
  }
  return out;
}

/**
 * Adds the integral of the line from (t0, v0) to (t1, v1), cut exactly at bucket edges, to the
 * buckets it overlaps; returns the bucket index to resume the search from.
 */
export function addTrapezoid(
  out: BucketValues,
  edges: Float64Array,
  t0: number,
  v0: number,
  t1: number,
  v1: number,
  hint: number,
): number {
  const n = edges.length - 1;
  const slope = (v1 - v0) / (t1 - t0);
  const first = bucketAt(edges, t0, hint);
  for (let i = Math.max(first, 0); i < n && edges[i] < t1; i++) {
    const a = Math.max(t0, edges[i]);
    const b = Math.min(t1, edges[i + 1]);
    if (b <= a) continue;
    // the exact integral of the line between the readings over [a, b]
    out.values[i] += ((v0 + slope * (a - t0) + v0 + slope * (b - t0)) / 2) * (b - a);
    out.covered[i] = 1;
  }
  return first;
}

/**
 * An interval series' energy per bucket: each reading is the energy of [ts, ts + intervalMs),
 * spread evenly over it, so 15-minute buckets of half-hourly readings get half each.
 */
export function intervalSpread(points: SeriesPoints, edges: Float64Array, intervalMs: number): BucketValues {
  const out = empty(edges);
  if (edges.length < 2) return out;
  let hint = 0;
  for (let k = 0; k < points.length; k++) {
    const t = points.ts[k];
    hint =
      intervalMs > 0
        ? spreadEvenly(out, edges, t, t + intervalMs, points.value[k], hint)
        : addAt(out, edges, t, points.value[k], hint);
  }
  return out;
}
