import { DateTime, IANAZone } from 'luxon';

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
