import { IANAZone } from 'luxon';
import { InvalidInput } from '../../../core/errors.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * A local wall-clock time as if it were UTC epoch ms (`Date.UTC` of its fields), or a reason it
 * does not exist. 24:00 is allowed (the end of a day's last interval) and is 00:00 of the next day.
 */
export function wallClockMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second = 0,
  ms = 0,
): number | string {
  if (month < 1 || month > 12) return `month ${month} does not exist`;
  const days = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > days) return `${year}-${pad2(month)} has no day ${day} (it has ${days} days)`;
  if (hour === 24 && (minute !== 0 || second !== 0 || ms !== 0))
    return `${pad2(hour)}:${pad2(minute)} does not exist (24:00 is the only time in hour 24)`;
  if (hour > 24) return `hour ${hour} does not exist (00–23, or 24:00)`;
  if (minute > 59) return `minute ${minute} does not exist (00–59)`;
  if (second > 59) return `second ${second} does not exist (00–59)`;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** `2024-03-31 01:15` for a wall-clock time from `wallClockMs`, for messages. */
export function formatWall(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 16).replace('T', ' ');
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Turns local wall-clock times of one zone into UTC instants. */
export interface LocalClock {
  readonly zone: string;
  /**
   * The UTC instants (epoch ms, ascending) a wall-clock time from `wallClockMs` names: one most of
   * the time, two in the hour repeated when clocks go back (earlier offset first), none in the hour
   * skipped when they go forward, except the skip's first instant itself (`01:00` in Lisbon on a
   * spring day), which is the instant of the change written on the clock it leaves.
   */
  toUtc(wallMs: number): number[];
}

/**
 * A clock for `zone` (an IANA name; anything else is a 400). Looking up an offset costs ~5 µs
 * (luxon asks Intl), too much for half a million records, so each local day is looked up once: when
 * the offset is the same 14 hours either side of it (the widest UTC offsets) and at its middle, no
 * change happens within it and every time of that day takes that offset.
 */
export function createLocalClock(zone: string): LocalClock {
  const z = IANAZone.create(zone);
  if (!z.isValid)
    throw new InvalidInput('invalid_zone', `zone must be an IANA time zone such as Europe/Lisbon (got "${zone}")`, {
      field: 'zone',
    });
  const offsetMs = (ts: number) => z.offset(ts) * 60_000;
  // per local day (days since 1970 of the wall clock): its one offset, or the offsets before and after a change
  const days = new Map<number, { steady: number } | { before: number; after: number }>();
  const dayOf = (day: number) => {
    let found = days.get(day);
    if (!found) {
      const start = day * DAY_MS;
      const before = offsetMs(start - 14 * HOUR_MS);
      const middle = offsetMs(start + 12 * HOUR_MS);
      const after = offsetMs(start + DAY_MS + 14 * HOUR_MS);
      found = before === middle && middle === after ? { steady: before } : { before, after };
      days.set(day, found);
    }
    return found;
  };
  return {
    zone,
    toUtc(wallMs) {
      const day = dayOf(Math.floor(wallMs / DAY_MS));
      if ('steady' in day) return [wallMs - day.steady];
      // an instant is named by this wall time under an offset if the zone has that offset then
      const found: number[] = [];
      for (const offset of day.before === day.after ? [day.before] : [day.before, day.after]) {
        const ts = wallMs - offset;
        if (offsetMs(ts) === offset) found.push(ts);
      }
      if (found.length === 0) {
        const change = wallMs - day.before;
        if (offsetMs(change) !== day.before && offsetMs(change - 1) === day.before) found.push(change);
      }
      return found.sort((a, b) => a - b);
    },
  };
}
