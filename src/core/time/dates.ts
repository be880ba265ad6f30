import { DateTime } from 'luxon';
import { InvalidInput } from '../errors.js';

/** Most days one request may name (a year, leap day included). */
export const MAX_DAYS_PER_REQUEST = 366;

/** A calendar date parameter, `YYYY-MM-DD` and a real date, or a 400 naming `field`. */
export function parseDateParam(value: unknown, field: string): string {
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    !DateTime.fromISO(value, { zone: 'utc' }).isValid
  ) {
    throw new InvalidInput(
      `invalid_${field}`,
      `${field} must be a date YYYY-MM-DD (got ${JSON.stringify(value)?.slice(0, 30)})`,
      { field },
    );
  }
  return value;
}

/**
 * The dates from `from` to `to` inclusive (`to` defaults to `from`), each checked as a date
 * parameter; `to` before `from` or more than MAX_DAYS_PER_REQUEST days is a 400 naming `toField`.
 */
export function dateRangeParam(from: unknown, to: unknown, fields: { from: string; to: string }): string[] {
  const first = DateTime.fromISO(parseDateParam(from, fields.from), { zone: 'utc' });
  const last = DateTime.fromISO(to === undefined ? first.toISODate()! : parseDateParam(to, fields.to), { zone: 'utc' });
  const count = Math.round(last.diff(first, 'days').days) + 1;
  if (count < 1 || count > MAX_DAYS_PER_REQUEST) {
    throw new InvalidInput(
      `invalid_${fields.to}`,
      `${fields.to} must be on or after ${fields.from}, at most ${MAX_DAYS_PER_REQUEST} days later`,
      { field: fields.to },
    );
  }
  return Array.from({ length: count }, (_, i) => first.plus({ days: i }).toISODate()!);
}
