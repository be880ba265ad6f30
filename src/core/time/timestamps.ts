/**
 * Timestamps at the API edge: ISO 8601 (with `Z` or an offset; none means UTC) or epoch
 * milliseconds, as a number or a string of digits. Inside, everything is UTC epoch milliseconds.
 */
const ISO_8601 = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const EPOCH_MS = /^-?\d{1,16}$/;
// ±100,000,000 days around 1970, the range of a JS Date
const MAX_ABS_MS = 8.64e15;

/** Epoch milliseconds, or NaN when `raw` is neither ISO 8601 nor epoch milliseconds. */
export function parseTimestamp(raw: unknown): number {
  if (typeof raw === 'number') return Number.isFinite(raw) && Math.abs(raw) <= MAX_ABS_MS ? Math.round(raw) : NaN;
  if (typeof raw !== 'string') return NaN;
  if (EPOCH_MS.test(raw)) return parseTimestamp(Number(raw));
  const m = ISO_8601.exec(raw);
  if (!m) return NaN;
  const [, date, time, zone] = m;
  if (!time) return Date.parse(date + 'T00:00:00Z');
  const fraction = time.replace(',', '.').replace(/(\.\d{3})\d+$/, '$1');
  const offset = !zone ? 'Z' : zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.length === 3 ? `${zone}:00` : zone;
  return Date.parse(`${date}T${fraction}${offset}`);
}
