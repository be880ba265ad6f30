import { InvalidInput } from '../../core/errors.js';
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
import { parseTimestamp } from '../../core/time/timestamps.js';
import type { QueryCache } from './query-cache.js';
import type { Store } from '../../core/store/index.js';
import type { ReadingsStorage } from './storage.js';

export const AGGREGATIONS = ['min', 'max', 'avg', 'sum', 'count', 'first', 'last'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];
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
}

export interface Point {
  time: string;
  value: number | null;
}

export interface SeriesPoints {
  series: string;
  points: Point[];
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

  const time = (name: 'start' | 'end'): number => {
    const v = text(name);
    if (v === undefined)
      throw new InvalidInput(`missing_${name}`, `${name} is required: ISO 8601 or epoch milliseconds`, { field: name });
    const ms = parseTimestamp(v);
    if (Number.isNaN(ms))
      throw new InvalidInput(
        `invalid_${name}`,
        `${name} must be ISO 8601 or epoch milliseconds (got "${v.slice(0, 40)}")`,
        { field: name },
      );
    return ms;
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
  const aggText = text('agg') ?? 'avg';
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
  return {
    series,
    startMs,
    endMs,
    window: windowText as WindowName | undefined,
    agg: aggText as Aggregation,
    tz,
    fill: fillText as Fill,
  };
}

const aggregateSql = (agg: Aggregation, storage: ReadingsStorage): string =>
  ({
    min: 'min(value)',
    max: 'max(value)',
    avg: 'avg(value)',
    sum: 'sum(value)',
    count: 'CAST(count(*) AS DOUBLE PRECISION)',
    first: storage.sql.first,
    last: storage.sql.last,
  })[agg];

export interface QueryEngineOptions {
  store: Store;
  storage: ReadingsStorage;
  cache: QueryCache<SeriesPoints[]>;
  metrics: Metrics;
  maxPoints: number;
}

/** Answers readings queries: windows × aggregations over one or more series, with gap filling. */
export function createQueryEngine(options: QueryEngineOptions) {
  const { store, storage, cache, metrics, maxPoints } = options;

  async function run(q: ReadingsQuery): Promise<SeriesPoints[]> {
    const started = performance.now();
    const cacheKey = JSON.stringify(q);
    const cached = cache.get(cacheKey);
    if (cached) {
      metrics.queryCacheHits.inc();
      metrics.queryDuration.observe({ cache: 'hit' }, (performance.now() - started) / 1000);
      return cached;
    }
    metrics.queryCacheMisses.inc();
    if (q.window && countBuckets(q.startMs, q.endMs, q.window) * q.series.length > maxPoints) {
      throw new InvalidInput(
        'too_many_points',
        `the range holds more than ${maxPoints} ${q.window} buckets; use a wider window or a shorter range`,
        { field: 'window' },
      );
    }
    const token = cache.begin();
    const known = await storage.series(q.series);
    const idByKey = new Map(known.map((s) => [s.key, s.id]));
    const rows = known.length
      ? await store.query<{ series_id: number; t: number; value: number }>(
          buildSql(
            q,
            known.map((s) => s.id),
          ),
          q.window === '1d' && q.tz ? [q.tz] : [],
        )
      : [];
    if (!q.window && rows.length > maxPoints) {
      throw new InvalidInput(
        'too_many_points',
        `the range holds more than ${maxPoints} points; add a window or shorten the range`,
        { field: 'window' },
      );
    }
    const byId = new Map<number, { t: number; value: number }[]>();
    for (const r of rows) {
      let list = byId.get(r.series_id);
      if (!list) byId.set(r.series_id, (list = []));
      list.push(r);
    }
    const results = q.series.map((key) => {
      const id = idByKey.get(key);
      const found = (id === undefined ? undefined : byId.get(id)) ?? [];
      return {
        series: key,
        points:
          q.window && q.fill !== 'none'
            ? fillBuckets(found, q)
            : found.map((r) => ({ time: formatTime(r.t, q.tz), value: r.value })),
      };
    });
    cache.set(cacheKey, token, q.series, q.startMs, q.endMs, results);
    metrics.queryDuration.observe({ cache: 'miss' }, (performance.now() - started) / 1000);
    return results;
  }

  function buildSql(q: ReadingsQuery, ids: number[]): string {
    // every inlined value is a number we produced (ids, epoch ms): nothing from the client reaches the SQL text
    const source = storage.source(
      `series_id IN (${ids.join(', ')}) AND ts BETWEEN ${q.startMs} AND ${q.endMs}`,
      q.startMs,
      q.endMs,
    );
    if (!q.window)
      return `SELECT series_id, ts AS t, value FROM (${source}) AS src ORDER BY series_id, ts LIMIT ${maxPoints + 1}`;
    const width = WINDOWS[q.window];
    const bucket =
      q.window === '1d' && q.tz ? storage.sql.tzDayBucket : `ts - (((ts % ${width}) + ${width}) % ${width})`;
    return `SELECT series_id, ${bucket} AS t, ${aggregateSql(q.agg, storage)} AS value FROM (${source}) AS src GROUP BY 1, 2 ORDER BY 1, 2`;
  }

  return { run };
}

export type QueryEngine = ReturnType<typeof createQueryEngine>;

function fillBuckets(found: { t: number; value: number }[], q: ReadingsQuery): Point[] {
  const points: Point[] = [];
  let i = 0;
  let previous: number | null = null;
  for (const t of bucketStarts(q.startMs, q.endMs, q.window!, q.tz)) {
    while (i < found.length && found[i].t < t) i++;
    let value: number | null;
    if (i < found.length && found[i].t === t) value = found[i++].value;
    else value = q.fill === 'previous' ? previous : q.fill === '0' ? 0 : null;
    if (value !== null) previous = value;
    points.push({ time: formatTime(t, q.tz), value });
  }
  return points;
}
