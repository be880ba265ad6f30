import { DateTime } from 'luxon';

/**
 * The period every view shows, as it is written in the URL (`?period=`):
 * relative names (`today`, `this-week`, `last-7d`…: a link opens the same choice on another day),
 * calendar periods (`day:2024-06-01`, `week:2024-05-27`, `month:2024-06`, `year:2024`), or a
 * custom range (`range:<ISO>/<ISO>`, end exclusive). Calendar days and weeks (from Monday) follow the
 * configured time zone.
 */
export type Unit = 'day' | 'week' | 'month' | 'year';
/** The energy API's bucket sizes the views use. */
export type Window = '30m' | '1h' | '1d' | 'month';

export interface Period {
  /** As written in the URL. */
  spec: string;
  start: DateTime;
  /** Exclusive. */
  end: DateTime;
  /** The calendar unit, or undefined for a rolling or custom range. */
  unit?: Unit;
  label: string;
  /** Buckets for the period's bars: half-hours for a day, days for a week or month, months for a year. */
  window: Window;
}

/** The choices offered as buttons, in order. */
export const PRESETS: { spec: string; label: string }[] = [
  { spec: 'today', label: 'Today' },
  { spec: 'yesterday', label: 'Yesterday' },
  { spec: 'this-week', label: 'This week' },
  { spec: 'this-month', label: 'This month' },
  { spec: 'this-year', label: 'This year' },
  { spec: 'last-24h', label: 'Last 24 h' },
  { spec: 'last-7d', label: 'Last 7 d' },
  { spec: 'last-30d', label: 'Last 30 d' },
];

export const DEFAULT_PERIOD = 'today';

const WINDOW_OF: Record<Unit, Window> = { day: '30m', week: '1d', month: '1d', year: 'month' };
const SPEC_FORMAT: Record<Unit, string> = { day: 'yyyy-MM-dd', week: 'yyyy-MM-dd', month: 'yyyy-MM', year: 'yyyy' };

/** The period a spec names at `now` in `zone`; throws (with words for the page) when it names none. */
export function resolvePeriod(spec: string, zone: string, now: DateTime = DateTime.now()): Period {
  const today = now.setZone(zone).startOf('day');
  const calendar = (unit: Unit, at: DateTime, name = spec) => calendarPeriod(unit, at, name);
  switch (spec) {
    case 'today':
      return calendar('day', today);
    case 'yesterday':
      return calendar('day', today.minus({ days: 1 }));
    case 'this-week':
      return calendar('week', today);
    case 'this-month':
      return calendar('month', today);
    case 'this-year':
      return calendar('year', today);
    case 'last-24h':
    case 'last-7d':
    case 'last-30d': {
      const hours = { 'last-24h': 24, 'last-7d': 24 * 7, 'last-30d': 24 * 30 }[spec];
      const end = now.setZone(zone);
      return rangePeriod(end.minus({ hours }), end, spec);
    }
  }
  const [kind, value = ''] = splitOnce(spec, ':');
  if (kind === 'day' || kind === 'week' || kind === 'month' || kind === 'year') {
    const at = DateTime.fromFormat(value, SPEC_FORMAT[kind], { zone });
    if (at.isValid) return calendar(kind, at);
  } else if (kind === 'range') {
    const [from, to = ''] = splitOnce(value, '/');
    const start = DateTime.fromISO(from, { zone });
    const end = DateTime.fromISO(to, { zone });
    if (start.isValid && end.isValid && end > start) return rangePeriod(start, end, spec);
  }
  throw new Error(`"${spec}" is not a period: choose one above`);
}

/** The period before (-1) or after (+1): a calendar period moves by its unit, a range by its length. */
export function shiftPeriod(period: Period, step: -1 | 1): string {
  if (period.unit) return specOf(period.unit, period.start.plus({ [period.unit + 's']: step }));
  const length = period.end.toMillis() - period.start.toMillis();
  const start = period.start.plus(step * length);
  return `range:${isoMinute(start)}/${isoMinute(start.plus(length))}`;
}

/** The day, week, month and year that hold a moment: the totals strip's periods. */
export function enclosing(at: DateTime): Period[] {
  return (['day', 'week', 'month', 'year'] as const).map((unit) => calendarPeriod(unit, at, specOf(unit, at)));
}

export function specOf(unit: Unit, at: DateTime): string {
  return `${unit}:${at.startOf(unit).toFormat(SPEC_FORMAT[unit])}`;
}

function calendarPeriod(unit: Unit, at: DateTime, spec: string): Period {
  const start = at.startOf(unit);
  const end = start.plus({ [unit + 's']: 1 });
  const label = {
    day: () => start.toFormat('ccc d LLL yyyy'),
    week: () => `Week of ${start.toFormat('d LLL yyyy')}`,
    month: () => start.toFormat('LLLL yyyy'),
    year: () => start.toFormat('yyyy'),
  }[unit]();
  return { spec, start, end, unit, label, window: WINDOW_OF[unit] };
}

function rangePeriod(start: DateTime, end: DateTime, spec: string): Period {
  const hours = end.diff(start, 'hours').hours;
  // about 50 bars at most for a day or two, a bar a day up to two months, a bar a month beyond
  const window: Window = hours <= 25 ? '30m' : hours <= 48 ? '1h' : hours <= 62 * 24 ? '1d' : 'month';
  const label = `${start.toFormat('d LLL yyyy HH:mm')} – ${end.toFormat('d LLL yyyy HH:mm')}`;
  return { spec, start, end, label, window };
}

function isoMinute(at: DateTime): string {
  return at.toFormat("yyyy-MM-dd'T'HH:mm");
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}
