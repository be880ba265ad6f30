import { isEnergyUnit, isPowerUnit } from '../../core/energy/units.js';
import { InvalidInput, WattlineError } from '../../core/errors.js';
import type { ReadingsMetrics as Metrics } from './metrics.js';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import {
  bucketStarts,
  countBuckets,
  formatTime,
  isTimeZone,
  isWindowName,
  WINDOWS,
  type WindowName,
} from '../../core/time/buckets.js';
import { parsePrecision, parseTimeParam } from '../../core/time/timestamps.js';
import { readAround } from './around.js';
import {
  AGGREGATIONS as STORED_AGGREGATIONS,
  type Aggregation as StoredAggregation,
  type Bucket,
  type ReadingColumns,
} from './plan.js';
import type { QueryCache } from './query-cache.js';
import { energyPoints, planSeries, type SeriesPlan } from './query-energy.js';
import type { Settings } from './settings.js';
import type { ReadingsStorage, SeriesEntry } from './storage.js';

/**
 * The store's aggregations, and the energy ones worked out here over the readings themselves
 * (core/energy): `increase` of a counter, `integral` of a power gauge.
 */
export const AGGREGATIONS = [...STORED_AGGREGATIONS, 'increase', 'integral'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];
/** The units a query may ask its values in: power for power, energy for energy and integrals. */
export const QUERY_UNITS = ['W', 'kW', 'MW', 'Wh', 'kWh', 'MWh'] as const;
export const FILLS = ['none', 'null', 'previous', '0'] as const;
export type Fill = (typeof FILLS)[number];

export interface ReadingsQuery {
  series: string[];
  startMs: number;
  endMs: number;
  /** No window: the raw points. */
  window?: WindowName;
  agg: Aggregation;
  tz?: string;
  fill: Fill;
  /** Values converted into this unit (QUERY_UNITS); undefined: the series' own (Wh for a W integral). */
  unit?: string;
}

/** A reading or a bucket: `ts` in UTC epoch ms (a bucket's start); `value` null only in a filled gap. */
export interface Point {
  ts: number;
  value: number | null;
}

export interface SeriesPoints {
  series: string;
  /** The unit of the values: the one asked for, else the series' own; null when it has none (and for count). */
  unit: string | null;
  points: Point[];
}

/** A query's answer: a result per series asked for, in that order, and those of them not in the catalog. */
export interface Answer {
  results: SeriesPoints[];
  unknown: string[];
}

const MAX_SERIES_PER_QUERY = 1000;

/** Turns query-string parameters into a query, or throws a 400 naming the parameter. */
export function parseQueryParams(params: Record<string, unknown>): ReadingsQuery {
  const text = (name: string): string | undefined => {
    const v = params[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new InvalidInput(`invalid_${name}`, `${name} must be given once`, { field: name });
    return v;
  };
  const seriesText = text('series');
  if (!seriesText)
    throw new InvalidInput('missing_series', 'series is required: one or more series keys, comma-separated', {
      field: 'series',
    });
  const series = [
    ...new Set(
      seriesText
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const badKey = series.find((s) => !SERIES_KEY_PATTERN.test(s));
  if (badKey !== undefined) {
    throw new InvalidInput(
      'invalid_series',
      `series "${badKey.slice(0, 50)}" is not a valid key (letters, digits and _ . : / -, at most 200)`,
      { field: 'series' },
    );
  }
  if (series.length > MAX_SERIES_PER_QUERY)
    throw new InvalidInput('invalid_series', `at most ${MAX_SERIES_PER_QUERY} series per query`, { field: 'series' });

  // epoch numbers in `precision`, or read by their number of digits (core/time/timestamps.ts)
  const precision = parsePrecision(params.precision);
  const time = (name: 'start' | 'end'): number => {
    const v = text(name);
    if (v === undefined)
      throw new InvalidInput(`missing_${name}`, `${name} is required: ISO 8601 or an epoch number`, { field: name });
    return parseTimeParam(v, precision, name);
  };
  const startMs = time('start');
  const endMs = time('end');
  if (startMs > endMs) throw new InvalidInput('invalid_start', 'start must not be after end', { field: 'start' });

  const windowText = text('window');
  if (windowText !== undefined && !isWindowName(windowText)) {
    throw new InvalidInput(
      'invalid_window',
      `window must be one of ${Object.keys(WINDOWS).join(', ')} (got "${windowText.slice(0, 20)}")`,
      { field: 'window' },
    );
  }
  const aggGiven = text('agg');
  // without a window the raw points come back: an agg would be silently ignored
  if (aggGiven !== undefined && !windowText)
    throw new InvalidInput('invalid_agg', 'agg needs a window (without one the raw points come back)', {
      field: 'agg',
    });
  const aggText = aggGiven ?? 'avg';
  if (!(AGGREGATIONS as readonly string[]).includes(aggText)) {
    throw new InvalidInput(
      'invalid_agg',
      `agg must be one of ${AGGREGATIONS.join(', ')} (got "${aggText.slice(0, 20)}")`,
      { field: 'agg' },
    );
  }
  const tz = text('tz');
  if (tz !== undefined && !isTimeZone(tz))
    throw new InvalidInput(
      'invalid_tz',
      `tz must be an IANA time zone such as Europe/London (got "${tz.slice(0, 40)}")`,
      { field: 'tz' },
    );
  const fillText = text('fill') ?? 'none';
  if (!(FILLS as readonly string[]).includes(fillText))
    throw new InvalidInput('invalid_fill', `fill must be one of null, previous, 0 (got "${fillText.slice(0, 20)}")`, {
      field: 'fill',
    });
  if (fillText !== 'none' && !windowText)
    throw new InvalidInput('invalid_fill', 'fill needs a window', { field: 'fill' });
  const unit = text('unit');
  if (unit !== undefined && !isPowerUnit(unit) && !isEnergyUnit(unit))
    throw new InvalidInput(
      'invalid_unit',
      `unit must be one of ${QUERY_UNITS.join(', ')} (got "${unit.slice(0, 20)}")`,
      { field: 'unit' },
    );
  if (unit !== undefined && aggText === 'count')
    throw new InvalidInput('invalid_unit', 'count is a number of readings: it has no unit', { field: 'unit' });
  return {
    series,
    startMs,
    endMs,
    window: windowText as WindowName | undefined,
    agg: aggText as Aggregation,
    tz,
    fill: fillText as Fill,
    ...(unit === undefined ? {} : { unit }),
  };
}

export interface QueryEngineOptions {
  storage: ReadingsStorage;
  cache: QueryCache<Answer>;
  metrics: Metrics;
  maxPoints: number;
  /** Longest `end - start` a query may ask for (`query.maxSpanMs`). */
  maxSpanMs: number;
  /** The energy arithmetic's settings (increase, integral, interval sums). */
  energy: Settings['energy'];
}

/**
 * Heap bytes one point of an answer holds: about 70 for the `{ts, value}` object and 90 for the
 * `{time, value}` copy routes.ts formats once and keeps beside it (measured with
 * `process.memoryUsage().heapUsed` over a million points, Node 20).
 */
const BYTES_PER_POINT = 160;
const BYTES_PER_SERIES = 200;

/** The memory a cached answer holds, for the cache's byte bound (`query.cacheMaxBytes`). */
export function answerBytes({ results, unknown }: Answer): number {
  let bytes = BYTES_PER_SERIES * unknown.length;
  for (const r of results) bytes += BYTES_PER_SERIES + r.series.length + r.points.length * BYTES_PER_POINT;
  return bytes;
}

/** A sum (or an average) too large for a double: answered as an error, never as a null that reads as "no data". */
export class ValueOverflow extends WattlineError {
  constructor(series: string, q: ReadingsQuery, bucketTs: number, value: number) {
    super(
      'value_overflow',
      `the ${q.agg} of series "${series}" in the ${q.window} bucket at ${formatTime(bucketTs, q.tz)} is ${value > 0 ? '+' : '-'}Infinity, beyond a 64-bit float (±1.8e308); use a narrower window or another agg`,
      { status: 422, field: 'series' },
    );
  }
}

/** The bucket a window stands for: `1d` with a zone is a local day, every other window epoch-aligned. */
function bucketOf(window: WindowName, tz: string | undefined): Bucket {
  return window === '1d' && tz
    ? { kind: 'calendar', unit: 'day', zone: tz }
    : { kind: 'fixed', widthMs: WINDOWS[window] };
}

/** Answers readings queries: windows × aggregations over one or more series, with gap filling. */
export function createQueryEngine(options: QueryEngineOptions) {
  const { storage, cache, metrics, maxPoints } = options;
  const energyOptions = {
    maxGapMs: options.energy.maxGapMs,
    resetTolerance: options.energy.resetTolerancePpm / 1e6,
  };

  async function answer(q: ReadingsQuery): Promise<Answer> {
    const started = performance.now();
    const cacheKey = JSON.stringify(q);
    const cached = cache.get(cacheKey);
    if (cached) {
      metrics.queryCacheHits.inc();
      metrics.queryDuration.observe({ cache: 'hit' }, (performance.now() - started) / 1000);
      return cached;
    }
    metrics.queryCacheMisses.inc();
    const token = cache.begin();
    const known = await storage.series(q.series);
    // checked before anything is read or built: what each series can answer, then the size
    const plans = new Map(known.map((s) => [s.id, planSeries(s, q)]));
    const buckets = q.window ? bucketsToBuild(q, known) : 0;
    if (buckets > maxPoints) {
      throw new InvalidInput(
        'too_many_points',
        `the range holds ${buckets} ${q.window} buckets${q.series.length > 1 ? ` across ${q.series.length} series` : ''}, more than query.maxPoints (${maxPoints}); use a wider window, a shorter range or fewer series`,
        { field: 'window' },
      );
    }
    // after the size: a range too wide for its window says so first, as it always did
    if (q.endMs - q.startMs > options.maxSpanMs)
      throw new InvalidInput(
        'span_too_long',
        `the range from start to end is longer than query.maxSpanMs (${options.maxSpanMs} ms); shorten it`,
        { field: 'end' },
      );
    const stored = known.filter((s) => plans.get(s.id)!.how === 'store');
    const computed = known.filter((s) => plans.get(s.id)!.how !== 'store');
    const range = { seriesIds: stored.map((s) => s.id), startMs: q.startMs, endMs: q.endMs };
    const rows = !stored.length
      ? undefined
      : q.window
        ? await storage.aggregate({ ...range, bucket: bucketOf(q.window, q.tz), agg: q.agg as StoredAggregation })
        : await storage.raw({ ...range, limit: maxPoints + 1 });
    if (!q.window && rows && rows.length > maxPoints) {
      throw new InvalidInput(
        'too_many_points',
        `the range holds more than query.maxPoints (${maxPoints}) points; add a window or shorten the range`,
        { field: 'window' },
      );
    }
    if (q.window && rows) throwOnOverflow(rows, known, q);
    const bySeriesId = rows ? pointsBySeries(rows, plans) : new Map<number, Point[]>();
    if (computed.length) await addComputed(q, computed, plans, bySeriesId);
    const idByKey = new Map(known.map((s) => [s.key, s.id]));
    const unknown = q.series.filter((key) => !idByKey.has(key));
    const results = q.series.map((key) => {
      const id = idByKey.get(key);
      const found = (id === undefined ? undefined : bySeriesId.get(id)) ?? [];
      const unit = id === undefined ? null : plans.get(id)!.unit;
      return { series: key, unit, points: q.window && q.fill !== 'none' ? fillBuckets(found, q) : found };
    });
    const out = { results, unknown };
    // a computed answer depends on each series' readings just outside the range too (the spans that
    // cross its ends, wherever the nearest reading is): any write to those series drops it
    const [from, to] = computed.length ? [-Infinity, Infinity] : [q.startMs, q.endMs];
    cache.set(cacheKey, token, q.series, from, to, out);
    metrics.queryDuration.observe({ cache: 'miss' }, (performance.now() - started) / 1000);
    return out;
  }

  /** The buckets of the series answered over their readings (energy arithmetic), into `bySeriesId`. */
  async function addComputed(
    q: ReadingsQuery,
    computed: readonly SeriesEntry[],
    plans: Map<number, SeriesPlan>,
    bySeriesId: Map<number, Point[]>,
  ) {
    const around = await readAround(storage, {
      series: computed.map((s) => s.key),
      startMs: q.startMs,
      endMs: q.endMs + 1,
      maxReadings: options.energy.maxReadings,
    });
    for (const s of computed) {
      const found = around.get(s.key);
      if (!found) continue; // removed meanwhile
      const points = energyPoints(found, plans.get(s.id)!, q, energyOptions);
      for (const p of points)
        if (p.value === Infinity || p.value === -Infinity) throw new ValueOverflow(s.key, q, p.ts, p.value);
      bySeriesId.set(s.id, points);
    }
  }

  return {
    /** The answer with the series not in the catalog (the HTTP route warns of them). */
    answer,
    /** The results alone (what other modules use). */
    run: async (q: ReadingsQuery): Promise<SeriesPoints[]> => (await answer(q)).results,
  };
}

/**
 * The buckets the answer will hold: filled, every bucket of the range for every series; otherwise
 * only those between each series' first and last reading (the catalog's), as no other can hold
 * data: a century of 1h buckets over a week of readings is 168, not 876,600.
 */
function bucketsToBuild(q: ReadingsQuery, known: readonly SeriesEntry[]): number {
  const window = q.window!;
  if (q.fill !== 'none') return countBuckets(q.startMs, q.endMs, window, q.tz) * q.series.length;
  let buckets = 0;
  for (const s of known) {
    // a series without readings has firstTs Infinity: the clipped range is empty
    const from = Math.max(q.startMs, s.firstTs);
    const to = Math.min(q.endMs, s.lastTs);
    if (from <= to) buckets += countBuckets(from, to, window, q.tz);
  }
  return buckets;
}

export type QueryEngine = ReturnType<typeof createQueryEngine>;

/** An aggregate beyond a double (the engines give ±Infinity) would read as null in JSON: refuse it, naming where. */
function throwOnOverflow(rows: ReadingColumns, known: readonly { id: number; key: string }[], q: ReadingsQuery) {
  for (let i = 0; i < rows.length; i++) {
    const v = rows.value[i];
    if (v === Infinity || v === -Infinity) {
      const key = known.find((s) => s.id === rows.seriesId[i])?.key ?? String(rows.seriesId[i]);
      throw new ValueOverflow(key, q, rows.ts[i], v);
    }
  }
}

/** Rows sorted by series id, then time, as points per series id, in each series' unit as planned. */
function pointsBySeries(rows: ReadingColumns, plans: Map<number, SeriesPlan>): Map<number, Point[]> {
  const out = new Map<number, Point[]>();
  const { seriesId, ts, value } = rows;
  let currentId = Number.NaN;
  let points: Point[] = [];
  let factor = 1;
  for (let i = 0; i < rows.length; i++) {
    if (seriesId[i] !== currentId) {
      currentId = seriesId[i];
      points = [];
      out.set(currentId, points);
      factor = plans.get(currentId)?.factor ?? 1;
    }
    points.push({ ts: ts[i], value: factor === 1 ? value[i] : value[i] * factor });
  }
  return out;
}

/** One point per bucket of the range: a bucket without readings gets null, the previous value or 0. */
function fillBuckets(found: Point[], q: ReadingsQuery): Point[] {
  const points: Point[] = [];
  let i = 0;
  let previous: number | null = null;
  for (const t of bucketStarts(q.startMs, q.endMs, q.window!, q.tz)) {
    while (i < found.length && found[i].ts < t) i++;
    let value: number | null;
    if (i < found.length && found[i].ts === t) value = found[i++].value;
    else value = q.fill === 'previous' ? previous : q.fill === '0' ? 0 : null;
    if (value !== null) previous = value;
    points.push({ ts: t, value });
  }
  return points;
}
