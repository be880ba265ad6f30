import type { SeriesPoints } from '../../core/energy/spread.js';
import { InvalidInput } from '../../core/errors.js';
import { DAY_MS } from '../../core/time/timestamps.js';

const MINUTE_MS = 60_000;
import type { ReadingColumns } from './plan.js';
import type { ReadingsStorage, SeriesEntry } from './storage.js';

/** A series' readings in a range with its neighbours outside it, and its catalog entry. */
export interface PointsAround {
  entry: SeriesEntry;
  points: SeriesPoints;
}

/**
 * The readings of `series` with `startMs ≤ ts < endMs`, plus for each series the last reading
 * before the range and the first after it, which energy arithmetic needs for spans that cross the
 * range's ends (a counter read yesterday and today used energy in between). Neighbours come from
 * the same read when they are within a few mean spacings of the range, else from `nearest`.
 * More than `maxReadings` in the range is a 400 before anything is copied out.
 */
export async function readAround(
  storage: ReadingsStorage,
  range: { series: readonly string[]; startMs: number; endMs: number; maxReadings: number },
): Promise<Map<string, PointsAround>> {
  const { startMs, endMs, maxReadings } = range;
  const entries = await storage.series(range.series);
  const out = new Map<string, PointsAround>();
  if (!entries.length) return out;
  const ids = entries.map((e) => e.id);
  // one read of the range and a few mean spacings either side, where most series' neighbours are;
  // the store is asked again only for the series whose neighbour lies farther
  const margin = Math.round(Math.min(DAY_MS, Math.max(MINUTE_MS, 4 * meanSpacing(entries))));
  const wide = await storage.raw({
    seriesIds: ids,
    startMs: startMs - margin,
    endMs: endMs - 1 + margin,
    limit: maxReadings + 1,
  });
  const rows = byId(wide);
  const spans = new Map<number, { first: number; end: number }>();
  let insideCount = 0;
  for (const entry of entries) {
    const own = rows.get(entry.id) ?? { start: 0, end: 0 };
    const first = lowerBound(wide.ts, own.start, own.end, startMs);
    const end = lowerBound(wide.ts, first, own.end, endMs);
    spans.set(entry.id, { first, end });
    insideCount += end - first;
  }
  // a truncated wide read may hide readings in the range: counted by the store's own limit then
  if (insideCount > maxReadings || wide.length > maxReadings) {
    const inside = await storage.raw({ seriesIds: ids, startMs, endMs: endMs - 1, limit: maxReadings + 1 });
    if (inside.length > maxReadings)
      throw new InvalidInput(
        'too_many_readings',
        `the range holds more than ${maxReadings} readings (energy.maxReadings): ask for a shorter range or fewer series`,
        { field: 'start' },
      );
    return assemble(entries, inside, byId(inside), await neighbours(storage, entries, startMs, endMs));
  }
  const missing = (side: 'first' | 'last') =>
    entries.filter((e) => {
      const own = rows.get(e.id) ?? { start: 0, end: 0 };
      const span = spans.get(e.id)!;
      return side === 'last'
        ? span.first === own.start && e.firstTs < startMs - margin
        : span.end === own.end && e.lastTs >= endMs + margin;
    });
  const [before, after] = await Promise.all([
    nearest(storage, missing('last'), 'last', startMs - margin),
    nearest(storage, missing('first'), 'first', endMs + margin),
  ]);
  for (const entry of entries) {
    const own = rows.get(entry.id) ?? { start: 0, end: 0 };
    const { first, end } = spans.get(entry.id)!;
    const prev: [number, number] | undefined =
      first > own.start ? [wide.ts[first - 1], wide.value[first - 1]] : before.get(entry.id);
    const next: [number, number] | undefined = end < own.end ? [wide.ts[end], wide.value[end]] : after.get(entry.id);
    out.set(entry.key, { entry, points: points(wide, first, end, prev, next) });
  }
  return out;
}

/** Each series' readings of `inside` with its neighbours either side. */
function assemble(
  entries: readonly SeriesEntry[],
  inside: ReadingColumns,
  rows: Map<number, { start: number; end: number }>,
  [before, after]: [Map<number, [number, number]>, Map<number, [number, number]>],
): Map<string, PointsAround> {
  const out = new Map<string, PointsAround>();
  for (const entry of entries) {
    const own = rows.get(entry.id) ?? { start: 0, end: 0 };
    out.set(entry.key, {
      entry,
      points: points(inside, own.start, own.end, before.get(entry.id), after.get(entry.id)),
    });
  }
  return out;
}

const neighbours = (storage: ReadingsStorage, entries: readonly SeriesEntry[], startMs: number, endMs: number) =>
  Promise.all([nearest(storage, entries, 'last', startMs), nearest(storage, entries, 'first', endMs)]);

/** Rows [from, to) of `columns` between an optional previous and next reading. */
function points(
  columns: ReadingColumns,
  from: number,
  to: number,
  prev: [number, number] | undefined,
  next: [number, number] | undefined,
): SeriesPoints {
  const length = to - from + (prev ? 1 : 0) + (next ? 1 : 0);
  const ts = new Float64Array(length);
  const value = new Float64Array(length);
  let i = 0;
  if (prev) [ts[i], value[i++]] = prev;
  ts.set(columns.ts.subarray(from, to), i);
  value.set(columns.value.subarray(from, to), i);
  i += to - from;
  if (next) [ts[i], value[i]] = next;
  return { ts, value, length };
}

/** The first index in [lo, hi) of ascending `ts` with ts ≥ `at` (hi when none). */
function lowerBound(ts: Float64Array, lo: number, hi: number, at: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where each series' rows start and end in columns sorted by series id. */
function byId(columns: ReadingColumns): Map<number, { start: number; end: number }> {
  const spans = new Map<number, { start: number; end: number }>();
  for (let i = 0; i < columns.length; ) {
    const id = columns.seriesId[i];
    const start = i;
    while (i < columns.length && columns.seriesId[i] === id) i++;
    spans.set(id, { start, end: i });
  }
  return spans;
}

/** Per series id, the last reading before `at` or the first at or after it, as [ts, value]. */
export async function nearest(
  storage: ReadingsStorage,
  entries: readonly SeriesEntry[],
  side: 'first' | 'last',
  at: number,
): Promise<Map<number, [number, number]>> {
  const found = new Map<number, [number, number]>();
  const collect = (c: ReadingColumns) => {
    for (let i = 0; i < c.length; i++) found.set(c.seriesId[i], [c.ts[i], c.value[i]]);
  };
  const window = (lo: number, hi: number) => ({ startMs: Math.round(lo), endMs: Math.round(hi) });
  let pending = entries.filter((e) => (side === 'last' ? e.firstTs < at : e.lastTs >= at));
  // nearer first: a few times the series' mean spacing (a reading a minute looks back minutes, not
  // a day of every series), then a day, then the rest of history, each only for series not found yet
  let reach = 0;
  for (const next of [Math.min(DAY_MS, Math.max(MINUTE_MS, 4 * meanSpacing(pending))), DAY_MS, Infinity]) {
    if (!pending.length) break;
    if (next <= reach) continue;
    const bounded = Number.isFinite(next);
    const lo = side === 'first' ? at + reach + (reach ? 1 : 0) : bounded ? at - next : earliest(pending);
    const hi = side === 'last' ? at - reach - 1 : bounded ? at + next : latest(pending);
    collect(await storage.nearest({ seriesIds: pending.map((e) => e.id), side, ...window(lo, hi) }));
    reach = next;
    // only series that have readings beyond what was searched
    pending = pending.filter(
      (e) =>
        !found.has(e.id) &&
        Number.isFinite(reach) &&
        (side === 'last' ? e.firstTs < at - reach : e.lastTs > at + reach),
    );
  }
  return found;
}

const earliest = (entries: readonly SeriesEntry[]) => entries.reduce((m, e) => Math.min(m, e.firstTs), Infinity);
const latest = (entries: readonly SeriesEntry[]) => entries.reduce((m, e) => Math.max(m, e.lastTs), -Infinity);

/** The widest mean spacing between readings among the series (ms); 0 when none has two readings. */
function meanSpacing(entries: readonly SeriesEntry[]): number {
  let widest = 0;
  for (const e of entries)
    if (e.count > 1 && Number.isFinite(e.firstTs)) widest = Math.max(widest, (e.lastTs - e.firstTs) / (e.count - 1));
  return widest;
}
