import { IANAZone } from 'luxon';

/**
 * A zone's UTC offset as a step function over a time range: `offsetMs[0]` until `untilMs[0]`,
 * `offsetMs[1]` until `untilMs[1]`… and the last one after. What an engine needs to turn UTC
 * times into local ones with plain arithmetic (a per-row zone lookup costs DuckDB ~100 µs a row).
 */
export interface ZoneOffsets {
  /** Instants (UTC epoch ms) at which the offset changes, ascending. */
  untilMs: number[];
  /** One more than `untilMs`: the offset (ms, local − UTC) in force before each change and after the last. */
  offsetMs: number[];
}

const WEEK_MS = 7 * 86_400_000;

/**
 * The offsets of `zone` over [startMs, endMs]. Changes are found by sampling weekly (no zone
 * changes its offset twice within a week) and narrowing each to the millisecond.
 */
export function zoneOffsets(zone: string, startMs: number, endMs: number): ZoneOffsets {
  const z = IANAZone.create(zone);
  if (!z.isValid) throw new Error(`unknown time zone ${zone}`);
  const offset = (ms: number) => z.offset(ms) * 60_000;
  const untilMs: number[] = [];
  const offsetMs = [offset(startMs)];
  for (let lo = startMs; lo < endMs; lo += WEEK_MS) {
    const hi = Math.min(lo + WEEK_MS, endMs);
    if (offset(hi) === offset(lo)) continue;
    // the first instant with the new offset, in (lo, hi]
    let a = lo;
    let b = hi;
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2);
      if (offset(mid) === offset(lo)) a = mid;
      else b = mid;
    }
    untilMs.push(b);
    offsetMs.push(offset(b));
  }
  return { untilMs, offsetMs };
}
