import { InvalidInput } from '../errors.js';

/**
 * Timestamps at the API edge: ISO 8601 (with `Z` or an offset; none means UTC) or an epoch number,
 * as a number or a string of digits. Inside, everything is UTC epoch milliseconds.
 *
 * An epoch number's unit is the request's `precision` (`s`, `ms`, `us`, `ns`, as InfluxDB's
 * `/write`) or, without one, its number of digits (the integer part, sign aside): 10–11 digits are
 * seconds (2001–5138), 13 milliseconds, 16 microseconds, 19 nanoseconds. Any other length is refused,
 * because guessing wrong stores a reading decades away from when it was taken (epoch seconds read as
 * milliseconds land in January 1970). 0 is the same instant in every unit and is taken as it is.
 */
export const PRECISIONS = ['s', 'ms', 'us', 'ns'] as const;
export type Precision = (typeof PRECISIONS)[number];
const MS_PER_UNIT: Record<Precision, number> = { s: 1000, ms: 1, us: 1e-3, ns: 1e-6 };

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const EPOCH = /^-?\d{1,19}(?:\.\d{1,9})?$/;
// ±100,000,000 days around 1970, the range of a JS Date
const MAX_ABS_MS = 8.64e15;

/** The `precision` parameter, or undefined when absent; anything else is a 400 naming `field`. */
export function parsePrecision(raw: unknown, field = 'precision'): Precision | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'string' && (PRECISIONS as readonly string[]).includes(raw)) return raw as Precision;
  throw new InvalidInput(
    `invalid_${field}`,
    `${field} must be one of ${PRECISIONS.join(', ')} (got ${JSON.stringify(raw)?.slice(0, 20)})`,
    { field },
  );
}

/** The unit an epoch number of this size is in, when the size says (see the rule above). */
function precisionByMagnitude(n: number): Precision | undefined {
  const x = Math.abs(n);
  if (x >= 1e9 && x < 1e11) return 's';
  if (x >= 1e12 && x < 1e13) return 'ms';
  if (x >= 1e15 && x < 1e16) return 'us';
  if (x >= 1e18 && x < 1e19) return 'ns';
  return undefined;
}

function epochToMs(n: number, precision: Precision | undefined): number {
  if (!Number.isFinite(n)) return NaN;
  if (n === 0) return 0;
  const unit = precision ?? precisionByMagnitude(n);
  if (unit === undefined) return NaN;
  const ms = Math.round(n * MS_PER_UNIT[unit]);
  return Math.abs(ms) <= MAX_ABS_MS ? ms : NaN;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysInMonth = (y: number, m: number) => (m === 2 && isLeapYear(y) ? 29 : DAYS_IN_MONTH[m - 1]);

/**
 * What is wrong with the parts of an ISO 8601 match, or undefined when it names a real instant:
 * `Date.parse` would quietly roll 2023-02-29 over to 1 March and 24:00 to the next day.
 */
function isoProblem(m: RegExpExecArray): string | undefined {
  const [, year, month, day, hour, minute, second, , zone] = m;
  const y = Number(year);
  const mo = Number(month);
  if (mo < 1 || mo > 12) return `month ${month} does not exist`;
  const days = daysInMonth(y, mo);
  if (Number(day) < 1 || Number(day) > days) return `${year}-${month} has no day ${day} (it has ${days} days)`;
  if (hour !== undefined && Number(hour) > 23)
    return `hour ${hour} does not exist (00–23; write 24:00 as 00:00 of the next day)`;
  if (minute !== undefined && Number(minute) > 59) return `minute ${minute} does not exist (00–59)`;
  if (second !== undefined && Number(second) > 59) return `second ${second} does not exist (00–59)`;
  if (zone && zone.length > 1) {
    const offsetMinutes = zone.length > 3 ? Number(zone.slice(-2)) : 0;
    if (Number(zone.slice(1, 3)) > 23 || offsetMinutes > 59) return `offset ${zone} does not exist`;
  }
  return undefined;
}

/**
 * Epoch milliseconds, or NaN when `raw` is not a real instant: an epoch number in `precision` (or
 * of a size the rule above reads), or an ISO 8601 date or time that exists. `timestampProblem` says why.
 */
export function parseTimestamp(raw: unknown, precision?: Precision): number {
  if (typeof raw === 'number') return epochToMs(raw, precision);
  if (typeof raw !== 'string') return NaN;
  if (EPOCH.test(raw)) return epochToMs(Number(raw), precision);
  const m = ISO_8601.exec(raw);
  if (!m || isoProblem(m) !== undefined) return NaN;
  const [, year, month, day, hour, minute, second, fraction, zone] = m;
  if (hour === undefined) return Date.parse(`${year}-${month}-${day}T00:00:00Z`);
  const ms = fraction ? `.${fraction.slice(0, 3)}` : '';
  const offset = !zone
    ? 'Z'
    : zone.toUpperCase() === 'Z'
      ? 'Z'
      : zone.length === 5
        ? `${zone.slice(0, 3)}:${zone.slice(3)}`
        : zone.length === 3
          ? `${zone}:00`
          : zone;
  return Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second ?? '00'}${ms}${offset}`);
}

/** Why `parseTimestamp(raw, precision)` gave NaN, in words for a 400 (named `field`). */
export function timestampProblem(raw: unknown, precision?: Precision, field = 'ts'): string {
  const shown = JSON.stringify(raw)?.slice(0, 40) ?? String(raw);
  const number = typeof raw === 'number' ? raw : typeof raw === 'string' && EPOCH.test(raw) ? Number(raw) : undefined;
  if (number !== undefined) {
    if (!Number.isFinite(number)) return `${field} must be a finite number (got ${shown})`;
    if (precision === undefined && precisionByMagnitude(number) === undefined) {
      const digits = String(Math.trunc(Math.abs(number))).length;
      return (
        `${field} ${shown} has ${digits} digits, which is no epoch unit: send seconds (10–11 digits), ` +
        'milliseconds (13), microseconds (16) or nanoseconds (19), or set precision=s|ms|us|ns, or use ISO 8601'
      );
    }
    return `${field} ${shown} is out of range (after ±275,000 years)`;
  }
  if (typeof raw !== 'string') return `${field} must be ISO 8601 or an epoch number (got ${shown})`;
  const m = ISO_8601.exec(raw);
  if (!m) return `${field} must be ISO 8601 (e.g. 2024-06-01T00:00:00Z) or an epoch number (got ${shown})`;
  return `${field} ${shown} is not a real time: ${isoProblem(m) ?? 'out of range'}`;
}

/** A time parameter of a request (`start`, `end`…): epoch ms, or a 400 naming `field` that says why not. */
export function parseTimeParam(value: string, precision: Precision | undefined, field: string): number {
  const ms = parseTimestamp(value, precision);
  if (Number.isNaN(ms))
    throw new InvalidInput(`invalid_${field}`, timestampProblem(value, precision, field), { field });
  return ms;
}

/** Milliseconds in a UTC day (a local day may have 23 or 25 hours: see core/time/dates.ts and buckets.ts). */
export const DAY_MS = 86_400_000;
const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/**
 * `new Date(ts).toISOString()` for many timestamps in a row, three to four times faster: the date
 * part is formatted once per UTC day and reused, the time of day is plain arithmetic. For writers
 * of millions of lines (dumps), where `toISOString` was a third of the time.
 */
export function createIsoFormatter(): (ts: number) => string {
  let dayStart = NaN;
  let datePart = '';
  return (ts) => {
    if (!(ts >= dayStart && ts < dayStart + DAY_MS)) {
      dayStart = ts - (((ts % DAY_MS) + DAY_MS) % DAY_MS);
      datePart = new Date(dayStart).toISOString().slice(0, -13); // up to and with the `T`
    }
    let ms = ts - dayStart;
    const h = Math.floor(ms / 3_600_000);
    ms -= h * 3_600_000;
    const m = Math.floor(ms / 60_000);
    ms -= m * 60_000;
    const s = Math.floor(ms / 1000);
    ms -= s * 1000;
    return `${datePart}${pad2(h)}:${pad2(m)}:${pad2(s)}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  };
}
