/**
 * Seeded, deterministic power readings for benchmarks: `seriesCount` meters × `pointCount`
 * one-minute points, as NDJSON bodies ready to send. The same seed always gives the same bytes.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface PowerReadings {
  seriesKeys: string[];
  pointCount: number;
  firstTsMs: number;
  /** Watts, series-major: the value of series `s` at minute `m` is `valuesW[s * pointCount + m]`. */
  valuesW: Float64Array;
}

/** mulberry32 (Tommy Ettinger's 32-bit PRNG): tiny, fast, and good enough for synthetic data. */
export function createMulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A plausible household/site power signal: a base load per meter, a daily cycle peaking in the
 * evening, ±5% noise and occasional appliance spikes (a kettle, an oven), rounded to 0.1 W.
 */
export function generatePowerReadings(options: {
  seed: number;
  seriesCount: number;
  pointCount: number;
  firstTsMs: number;
}): PowerReadings {
  const { seed, seriesCount, pointCount, firstTsMs } = options;
  const random = createMulberry32(seed);
  const seriesKeys = Array.from({ length: seriesCount }, (_, s) => `meter-${String(s).padStart(3, '0')}`);
  const valuesW = new Float64Array(seriesCount * pointCount);
  for (let s = 0; s < seriesCount; s++) {
    const baseW = 150 + 2850 * random();
    const phase = 2 * Math.PI * random();
    for (let m = 0; m < pointCount; m++) {
      const daily = 1 + 0.35 * Math.sin((2 * Math.PI * m) / 1440 + phase);
      const noise = 1 + 0.1 * (random() - 0.5);
      const spikeW = random() < 0.02 ? 2000 * random() : 0;
      valuesW[s * pointCount + m] = Math.round((baseW * daily * noise + spikeW) * 10) / 10;
    }
  }
  return { seriesKeys, pointCount, firstTsMs, valuesW };
}

export interface NdjsonBody {
  bytes: Buffer;
  lines: number;
}

/**
 * NDJSON bodies of `linesPerBody` lines for the series in [seriesFrom, seriesTo), time-major (each
 * minute, every meter in turn, as collectors report), so each series stays in time order.
 * `lineExtra` is appended to every line's fields, e.g. `,"unit":"W"`.
 */
export function buildNdjsonBodies(
  readings: PowerReadings,
  seriesFrom: number,
  seriesTo: number,
  linesPerBody: number,
  lineExtra = '',
): NdjsonBody[] {
  const { seriesKeys, pointCount, firstTsMs, valuesW } = readings;
  const bodies: NdjsonBody[] = [];
  let lines: string[] = [];
  for (let m = 0; m < pointCount; m++) {
    const tsMs = firstTsMs + m * MINUTE_MS;
    for (let s = seriesFrom; s < seriesTo; s++) {
      lines.push(`{"series":"${seriesKeys[s]}","value":${valuesW[s * pointCount + m]},"ts":${tsMs}${lineExtra}}`);
      if (lines.length === linesPerBody) {
        bodies.push({ bytes: Buffer.from(lines.join('\n') + '\n'), lines: lines.length });
        lines = [];
      }
    }
  }
  if (lines.length) bodies.push({ bytes: Buffer.from(lines.join('\n') + '\n'), lines: lines.length });
  return bodies;
}

export interface Bucket {
  startMs: number;
  min: number;
  max: number;
  sum: number;
  count: number;
}

/** What the server should answer for one series and a fixed window, computed from the generated values. */
export function expectedBuckets(readings: PowerReadings, seriesIndex: number, widthMs: number): Bucket[] {
  const buckets = new Map<number, Bucket>();
  for (let m = 0; m < readings.pointCount; m++) {
    const tsMs = readings.firstTsMs + m * MINUTE_MS;
    const startMs = tsMs - (tsMs % widthMs);
    const v = readings.valuesW[seriesIndex * readings.pointCount + m];
    const b = buckets.get(startMs);
    if (!b) buckets.set(startMs, { startMs, min: v, max: v, sum: v, count: 1 });
    else {
      b.min = Math.min(b.min, v);
      b.max = Math.max(b.max, v);
      b.sum += v;
      b.count++;
    }
  }
  return [...buckets.values()].sort((a, b) => a.startMs - b.startMs);
}
