import { DateTime, IANAZone } from 'luxon';
import { createIsoFormatter } from './timestamps.js';
import { type ZoneOffsets, zoneOffsets } from './zone-offsets.js';

/** Fixed windows, epoch-aligned like TimescaleDB `time_bucket`; `1d` follows a time zone when one is given. */
export const WINDOWS = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
} as const;
export type WindowName = keyof typeof WINDOWS;

export function isWindowName(value: string): value is WindowName {
  return Object.hasOwn(WINDOWS, value);
}

export function isTimeZone(value: string): boolean {
  return IANAZone.isValidZone(value);
}

/** Start of the epoch-aligned bucket holding `tsMs` (correct for times before 1970 too). */
export function alignToWindow(tsMs: number, widthMs: number): number {
  return tsMs - (((tsMs % widthMs) + widthMs) % widthMs);
}

/** Start of the local day holding `tsMs` in `zone` (23- or 25-hour days at the clock changes). */
export function startOfLocalDay(tsMs: number, zone: string): number {
  return DateTime.fromMillis(tsMs, { zone }).startOf('day').toMillis();
}

/**
 * Every bucket start from the bucket holding `startMs` to the one holding `endMs`, for gap filling.
 * With a zone, `1d` buckets are local days; other windows stay UTC-aligned.
 */
export function bucketStarts(startMs: number, endMs: number, window: WindowName, zone?: string): number[] {
  const out: number[] = [];
  if (window === '1d' && zone) {
    let day = DateTime.fromMillis(startMs, { zone }).startOf('day');
    while (day.toMillis() <= endMs) {
      out.push(day.toMillis());
      day = day.plus({ days: 1 });
    }
    return out;
  }
  const width = WINDOWS[window];
  for (let t = alignToWindow(startMs, width); t <= endMs; t += width) out.push(t);
  return out;
}

/** How many buckets `bucketStarts` would list for a range, without listing them. */
export function countBuckets(startMs: number, endMs: number, window: WindowName, zone?: string): number {
  if (endMs < startMs) return 0;
  if (window === '1d' && zone) {
    const first = DateTime.fromMillis(startMs, { zone }).startOf('day');
    const last = DateTime.fromMillis(endMs, { zone }).startOf('day');
    return Math.round(last.diff(first, 'days').days) + 1;
  }
  const width = WINDOWS[window];
  return (alignToWindow(endMs, width) - alignToWindow(startMs, width)) / width + 1;
}

/** ISO 8601 for an API reply: UTC (`…Z`), or with the zone's offset when a zone was asked for. */
export function formatTime(tsMs: number, zone?: string): string {
  if (!zone) return new Date(tsMs).toISOString();
  return DateTime.fromMillis(tsMs, { zone }).toISO({ includeOffset: true }) ?? new Date(tsMs).toISOString();
}

const YEAR_MS = 365 * 86_400_000;
/** Instants whose local time both `Date` and luxon write with a four-digit year (and no sign). */
const FOUR_DIGIT_YEARS = [Date.UTC(1, 0, 1) + 2 * 86_400_000, Date.UTC(9999, 11, 31) - 2 * 86_400_000] as const;

/**
 * `formatTime(ts, zone)` for many timestamps in a row, without a luxon DateTime per timestamp (17,000
 * daily points took 150 ms): the zone's offsets are worked out for the two years around a timestamp
 * (zone-offsets.ts) and reused while the timestamps stay in that span, the local time is the UTC
 * formatter's on the shifted instant, and the offset's text is luxon's, once per offset.
 */
export function createZonedIsoFormatter(zone: string): (ts: number) => string {
  const iso = createIsoFormatter();
  const z = IANAZone.create(zone);
  const suffixes = new Map<number, string>();
  let lo = NaN;
  let hi = NaN;
  let offsets: ZoneOffsets = { untilMs: [], offsetMs: [0] };
  return (ts) => {
    // luxon keeps whole milliseconds; a zone luxon takes but zoneOffsets does not (`UTC+3`) is luxon's
    ts = Math.trunc(ts);
    if (!z.isValid) return formatTime(ts, zone);
    if (!(ts >= lo && ts < hi)) {
      lo = ts - YEAR_MS;
      hi = ts + YEAR_MS;
      offsets = zoneOffsets(zone, lo, hi);
    }
    // the offset in force at ts: the one before the first change after it
    const { untilMs } = offsets;
    let a = 0;
    let b = untilMs.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (untilMs[mid] > ts) b = mid;
      else a = mid + 1;
    }
    const offsetMs = offsets.offsetMs[a];
    const local = ts + offsetMs;
    // offsets of seconds (local mean time before 1900 or so) and far-off years: luxon's own text
    if (offsetMs % 60_000 !== 0 || !(local >= FOUR_DIGIT_YEARS[0] && local <= FOUR_DIGIT_YEARS[1]))
      return formatTime(ts, zone);
    let suffix = suffixes.get(offsetMs);
    if (suffix === undefined) {
      suffix = formatTime(ts, zone).slice(23);
      suffixes.set(offsetMs, suffix);
    }
    return iso(local).slice(0, 23) + suffix;
  };
}
