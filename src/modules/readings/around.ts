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
  const [before, after] = await Promise.all([
    nearest(storage, entries, 'last', startMs),
    nearest(storage, entries, 'first', endMs),
  ]);
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
