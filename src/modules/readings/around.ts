import type { SeriesPoints } from '../../core/energy/spread.js';
import { InvalidInput } from '../../core/errors.js';
import { DAY_MS } from '../../core/time/timestamps.js';
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
 * range's ends (a counter read yesterday and today used energy in between). Neighbours are looked
 * for within a day first and in the rest of the series' history only when that finds none.
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
  const inside = await storage.raw({ seriesIds: ids, startMs, endMs: endMs - 1, limit: maxReadings + 1 });
  if (inside.length > maxReadings)
    throw new InvalidInput(
      'too_many_readings',
      `the range holds more than ${maxReadings} readings (energy.maxReadings): ask for a shorter range or fewer series`,
      { field: 'start' },
    );
  const before = await nearest(storage, entries, 'last', startMs);
  const after = await nearest(storage, entries, 'first', endMs);
  const rows = byId(inside);
  for (const entry of entries) {
    const own = rows.get(entry.id) ?? { start: 0, end: 0 };
    const prev = before.get(entry.id);
    const next = after.get(entry.id);
    const length = own.end - own.start + (prev ? 1 : 0) + (next ? 1 : 0);
    const ts = new Float64Array(length);
    const value = new Float64Array(length);
    let i = 0;
    if (prev) [ts[i], value[i++]] = prev;
    ts.set(inside.ts.subarray(own.start, own.end), i);
    value.set(inside.value.subarray(own.start, own.end), i);
    i += own.end - own.start;
    if (next) [ts[i], value[i]] = next;
    out.set(entry.key, { entry, points: { ts, value, length } });
  }
  return out;
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
  const near = side === 'last' ? window(at - DAY_MS, at - 1) : window(at, at + DAY_MS);
  const held = entries.filter((e) => (side === 'last' ? e.firstTs < at : e.lastTs >= at));
  if (!held.length) return found;
  collect(await storage.nearest({ seriesIds: held.map((e) => e.id), side, ...near }));
  // the rest of history only for series that have readings there but none within the day
  const farther = held.filter(
    (e) => !found.has(e.id) && (side === 'last' ? e.firstTs < near.startMs : e.lastTs > near.endMs),
  );
  if (farther.length) {
    const far =
      side === 'last'
        ? window(Math.min(...farther.map((e) => e.firstTs)), near.startMs - 1)
        : window(near.endMs + 1, Math.max(...farther.map((e) => e.lastTs)));
    collect(await storage.nearest({ seriesIds: farther.map((e) => e.id), side, ...far }));
  }
  return found;
}
