/** One half-hour settlement period: the API's unit of time. */
export const SLOT_MS = 30 * 60_000;

/** `2024-01-01T00:00Z`: how the API takes times in its paths (UTC, minutes). */
function pathTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}

/**
 * The `{from}/{to}` path parts that ask the Carbon Intensity API (both `/intensity` and
 * `/generation`) for the half-hours starting in [fromMs, toMs). The API answers every half-hour
 * whose *end* lies in [from, to] — asking from 00:00 also returns 23:30–00:00 of the day before —
 * so `from` is the end of the first half-hour wanted and `to` the end of the last.
 *
 * With `splitAtNewYear`, no request has its from and to in different years: `/generation` answers
 * 200 but leaves out everything after 31 December when they are (carbon-intensity/api-definitions#12).
 */
export function rangePaths(fromMs: number, toMs: number, splitAtNewYear = false): string[] {
  const first = Math.ceil(fromMs / SLOT_MS) * SLOT_MS;
  const end = Math.ceil(toMs / SLOT_MS) * SLOT_MS; // past the last half-hour starting before toMs
  const paths: string[] = [];
  for (let start = first; start < end; ) {
    let stop = end;
    if (splitAtNewYear) {
      // the half-hour 23:30–00:00 on 31 December ends in the new year: it goes with the new year's request
      const newYear = Date.UTC(new Date(start + SLOT_MS).getUTCFullYear() + 1, 0, 1);
      stop = Math.min(end, newYear - SLOT_MS);
    }
    paths.push(`${pathTime(start + SLOT_MS)}/${pathTime(stop)}`);
    start = stop;
  }
  return paths;
}

/** The API's base URL without a trailing slash, so `${base}/intensity/…` is one path. */
export function baseUrl(carbonUrl: string): string {
  return carbonUrl.replace(/\/+$/, '');
}
