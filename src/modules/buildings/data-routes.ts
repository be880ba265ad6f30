import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput, NotFound } from '../../core/errors.js';
import type { Store } from '../../core/store/index.js';
import { WINDOWS, type WindowName } from '../../core/time/buckets.js';
import { parseTimestamp, timestampProblem } from '../../core/time/timestamps.js';
import type { ReadingsService } from '../readings/index.js';
import { listSensors } from './repository.js';

export const MAX_PAGE = 10_000;
const DAY_MS = 86_400_000;
/** Buckets of counts a page may read to find where it starts: small, whatever the range. */
const COUNT_BUCKETS = 20_000;
const COUNT_WINDOWS: WindowName[] = ['1m', '5m', '15m', '30m', '1h', '1d'];

export interface PageRow {
  series: string;
  ts: number;
  value: number;
}

/**
 * A page of the raw readings of `series` in [startMs, endMs], newest first (ties in the order of
 * `series`), and how many readings the range holds in all. Bounded whatever the range: one count
 * query (per time bucket, all series at once) says which buckets hold the page, and only those
 * are read raw — never the whole range, never a query per series.
 */
export async function newestFirst(
  readings: ReadingsService,
  series: readonly string[],
  range: { startMs: number; endMs: number; limit: number; offset: number },
): Promise<{ rows: PageRow[]; total: number }> {
  const { startMs, endMs, limit, offset } = range;
  const known = await readings.catalog(series);
  if (!known.length || endMs < startMs) return { rows: [], total: 0 };
  const window = countWindow(known, startMs, endMs);
  const keys = known.map((s) => s.key);
  const counts = await readings.query({ series: keys, startMs, endMs, window, agg: 'count', fill: 'none' });
  const perBucket = new Map<number, number>();
  let total = 0;
  for (const r of counts)
    for (const p of r.points) {
      perBucket.set(p.ts, (perBucket.get(p.ts) ?? 0) + (p.value ?? 0));
      total += p.value ?? 0;
    }
  if (offset >= total || limit === 0) return { rows: [], total };
  const buckets = [...perBucket].sort((a, b) => b[0] - a[0]);
  // `newer`: readings in buckets newer than the page's first bucket
  let first = 0;
  let newer = 0;
  while (newer + buckets[first][1] <= offset) newer += buckets[first++][1];
  let last = first;
  let through = newer + buckets[first][1];
  while (through < offset + limit && last + 1 < buckets.length) through += buckets[++last][1];
  const raw = await readings.query({
    series: keys,
    startMs: Math.max(startMs, buckets[last][0]),
    endMs: Math.min(endMs, buckets[first][0] + WINDOWS[window] - 1),
    agg: 'avg',
    fill: 'none',
  });
  const order = new Map(series.map((key, i) => [key, i]));
  const rows: PageRow[] = [];
  for (const r of raw) for (const p of r.points) rows.push({ series: r.series, ts: p.ts, value: p.value as number });
  rows.sort((a, b) => b.ts - a.ts || order.get(a.series)! - order.get(b.series)!);
  return { rows: rows.slice(offset - newer, offset - newer + limit), total };
}

/** The finest window whose buckets over the series' readings stay few: fine buckets read few raw rows. */
function countWindow(known: readonly { firstTs: number; lastTs: number }[], startMs: number, endMs: number) {
  let spanMs = 0;
  for (const s of known) {
    const from = Math.max(startMs, s.firstTs);
    const to = Math.min(endMs, s.lastTs);
    if (from <= to) spanMs += to - from;
  }
  return COUNT_WINDOWS.find((w) => spanMs / WINDOWS[w] + known.length <= COUNT_BUCKETS) ?? '1d';
}

/** A time field of a body or query: ISO 8601 or an epoch number, else a 400 naming it; `fallback` when absent. */
export function timeField(raw: unknown, field: string, fallback: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const ms = parseTimestamp(raw);
  if (Number.isNaN(ms)) throw new InvalidInput(`invalid_${field}`, timestampProblem(raw, undefined, field), { field });
  return ms;
}

/** start_time and end_time (default: the 24 hours before now), start not after end. */
export function timeRange(query: { start_time?: unknown; end_time?: unknown }, nowMs: number) {
  const endMs = timeField(query.end_time, 'end_time', nowMs);
  const startMs = timeField(query.start_time, 'start_time', endMs - DAY_MS);
  if (startMs > endMs)
    throw new InvalidInput('invalid_start_time', 'start_time must not be after end_time', { field: 'start_time' });
  return { startMs, endMs };
}

interface QueryBody {
  sensor_ids: string[];
  start_time?: string | number;
  end_time?: string | number;
  limit?: number;
  offset?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `POST /api/v1/data/query`: the raw readings of several sensors, newest first, a page at a time. */
export const dataRoutes =
  (deps: { store: Store; readings: ReadingsService; now: () => number }): FastifyPluginAsync =>
  async (http) => {
    http.post<{ Body: QueryBody }>(
      '/api/v1/data/query',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Readings of several sensors, newest first, with the count of every match',
          description: `start_time and end_time (inclusive) are ISO 8601 or epoch numbers; default the 24 hours before now. limit 1–${MAX_PAGE} (default 100).`,
          tags: ['buildings'],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['sensor_ids'],
            properties: {
              sensor_ids: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string' } },
              // ISO 8601 or an epoch number: timeField checks them and names the field
              start_time: {},
              end_time: {},
              limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
              offset: { type: 'integer', minimum: 0 },
            },
          },
        },
      },
      async (request) => {
        const body = request.body;
        const { startMs, endMs } = timeRange(body, deps.now());
        const limit = body.limit ?? 100;
        const offset = body.offset ?? 0;
        const ids = [...new Set(body.sensor_ids)];
        const wanted = new Set(ids);
        const sensors = (await listSensors(deps.store)).filter((s) => wanted.has(s.sensorId));
        const missing = ids.find((id) => !sensors.some((s) => s.sensorId === id));
        if (missing !== undefined)
          throw new NotFound(`sensor "${missing.slice(0, 200)}" does not exist`, { field: 'sensor_ids' });
        // two sensors may share a series: each reading is answered once per sensor asking for it
        const bySeries = new Map<string, string[]>();
        for (const id of ids) {
          const key = sensors.find((s) => s.sensorId === id)!.series;
          bySeries.set(key, [...(bySeries.get(key) ?? []), id]);
        }
        const page = await newestFirst(deps.readings, [...bySeries.keys()], { startMs, endMs, limit, offset });
        const data = page.rows.flatMap((r) =>
          bySeries.get(r.series)!.map((sensorId) => ({ sensor_id: sensorId, timestamp: iso(r.ts), value: r.value })),
        );
        return { data, total_count: page.total, limit, offset };
      },
    );
  };
