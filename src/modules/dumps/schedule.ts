import { DateTime } from 'luxon';

/** `[start, end)` in UTC ms of the local `day` (YYYY-MM-DD) in `zone`: 23 or 25 hours at clock changes. */
export function dayRange(day: string, zone: string): { startMs: number; endMs: number } {
  const start = DateTime.fromISO(day, { zone }).startOf('day');
  return { startMs: start.toMillis(), endMs: start.plus({ days: 1 }).toMillis() };
}

/** The next `hour`:00 in `zone` strictly after `nowMs` (on a spring-forward day a missing hour is the next that exists). */
export function nextRunAt(nowMs: number, hour: number, zone: string): number {
  const now = DateTime.fromMillis(nowMs, { zone });
  for (let d = 0; ; d++) {
    const run = now.startOf('day').plus({ days: d }).set({ hour, minute: 0, second: 0, millisecond: 0 });
    if (run.toMillis() > nowMs) return run.toMillis();
  }
}

/**
 * The local days the daily job owes at `nowMs`, oldest first: each day after `lastDone` up to the
 * latest finished day whose run time (`hour` the next day) has come, at most `catchUp` of them.
 * Without a `lastDone` (nothing dumped yet) only that latest day is owed.
 */
export function daysDue(
  lastDone: string | undefined,
  nowMs: number,
  hour: number,
  zone: string,
  catchUp: number,
): string[] {
  const now = DateTime.fromMillis(nowMs, { zone });
  const todaysRun = now.startOf('day').set({ hour });
  const latest = now.startOf('day').minus({ days: todaysRun.toMillis() <= nowMs ? 1 : 2 });
  if (lastDone === undefined) return catchUp > 0 ? [latest.toISODate()!] : [];
  const days: string[] = [];
  for (let day = latest; day.toISODate()! > lastDone && days.length < catchUp; day = day.minus({ days: 1 }))
    days.unshift(day.toISODate()!);
  return days;
}
