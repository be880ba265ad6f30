import { DateTime, IANAZone } from 'luxon';

/**
 * The GB settlement baseline BL01 (Elexon's baselining methodology for P376): what a series would
 * have used in each half-hour had there been no event, from the same half-hour on recent similar
 * days. Pure arithmetic on half-hourly energy in the building's time zone: report.ts reads the
 * energy and hands it over as a map.
 *
 * - Working-day event: per half-hour, the mean of the same half-hour on the 10 most recent working
 *   days of the 60 before the event's day. 5–9 such days: their mean, marked incomplete; fewer than
 *   5: no baseline, with the reason.
 * - Weekend or holiday event: the 4 most recent non-working days (Saturdays, Sundays and holidays
 *   alike) of the 60, ranked by their energy over the baselined half-hours, the mean of the middle two.
 * - Either way a day is left out when it had an event, when its clock changed (not 48 half-hours in
 *   the zone) or when any of its half-hours has no energy value.
 * - Same-day adjustment (optional): the baseline is scaled by actual ÷ baseline over the 3 hours
 *   ending 1 hour before the event.
 */

export const HALF_HOUR_MS = 1_800_000;
const HOUR_MS = 3_600_000;
/** BL01 looks back over the 60 days before the day baselined. */
const LOOKBACK_DAYS = 60;
/** A day with 46 or 50 half-hours (a clock change) has no same half-hour for every slot: left out. */
const HALF_HOURS_PER_DAY = 48;
/**
 * How many days of each type BL01 wants, and how few it can do with. The issue gives 10 and 5 for
 * working days and 4 for non-working days; with 2 or 3 non-working days the baseline is still
 * worked out (by the same trimming, see middleDays) and marked incomplete, as 5–9 working days are:
 * half of what is wanted is the least either way. Fewer than 2 → none.
 */
const DAYS: Record<DayType, { wanted: number; needed: number }> = {
  working: { wanted: 10, needed: 5 },
  'non-working': { wanted: 4, needed: 2 },
};

/** kWh per local half-hour, by the half-hour's start (UTC epoch ms); a half-hour without a value is absent, never 0. */
export type HalfHourly = ReadonlyMap<number, number>;

/** Working days are Monday to Friday except holidays; Saturdays, Sundays and holidays are non-working. */
export type DayType = 'working' | 'non-working';

/** How good a baseline is, and what it was made of. */
export interface BaselineVerdict {
  baseline: 'complete' | 'incomplete' | 'none';
  /** True unless the baseline is complete (from fewer days than BL01 wants, or none at all). */
  incomplete: boolean;
  /** The local dates (YYYY-MM-DD) whose half-hours were averaged, oldest first. */
  daysUsed: string[];
  /** Why the baseline is incomplete or missing. */
  reason?: string;
  /** With the same-day adjustment asked for: the factor applied, or null when none could be. */
  adjustment?: number | null;
  /** Why the same-day adjustment was not applied. */
  adjustmentReason?: string;
}

/** One half-hour of an event: its start (UTC epoch ms) and kWh; null where it cannot be known. */
export interface SlotFigures {
  time: number;
  baselineKwh: number | null;
  actualKwh: number | null;
  deliveredKwh: number | null;
}

/** A day BL01 may draw on: one of the day type's, in the look-back, without an event or a clock change. */
interface CandidateDay {
  date: string;
  /** Every half-hour of the day: a day missing the energy of any of them is left out. */
  halfHours: number[];
  /** The plan's slots moved to this day (same wall-clock time), in the plan's order. */
  slots: number[];
  /** The plan's extra slots moved to this day. */
  extraSlots: number[];
}

/**
 * What BL01 needs to know of the calendar, worked out once for any number of series: the days it
 * may draw on and where each baselined half-hour falls on them.
 */
export interface BaselinePlan {
  zone: string;
  /** The local date baselined (an event's: that of its start). */
  date: string;
  dayType: DayType;
  /** Starts of the half-hours to baseline (UTC epoch ms). */
  slots: readonly number[];
  /**
   * Starts of further half-hours baselined from the same days, which play no part in choosing
   * them: the same-day adjustment's window.
   */
  extraSlots: readonly number[];
  /** The candidate days, most recent first. */
  candidates: readonly CandidateDay[];
  /** Days of the type in the look-back left out whatever the data: for an event, for a clock change. */
  leftOut: { events: number; clockChanges: number };
  /** Every half-hour the plan reads lies in [startMs, endMs): the range to read energy over. */
  range: { startMs: number; endMs: number };
}

export interface PlanCalendar {
  /** IANA time zone of the building. */
  zone: string;
  /** Local dates (YYYY-MM-DD) that had an event: never a baseline day. */
  eventDays: ReadonlySet<string>;
  /** Local dates (YYYY-MM-DD) that are holidays: non-working days. */
  holidays: ReadonlySet<string>;
}

/** The plan of an event's baseline: its half-hours and the same-day adjustment's window as extra slots. */
export function planEvent(event: { startMs: number; durationMinutes: number }, calendar: PlanCalendar): BaselinePlan {
  const slots = eventSlots(event.startMs, event.durationMinutes, calendar.zone);
  const date = DateTime.fromMillis(event.startMs, { zone: calendar.zone }).toISODate()!;
  return planBaseline({ date, slots, extraSlots: adjustmentWindow(slots[0]) }, calendar);
}

/** The plan of every half-hour of a local day (46, 48 or 50 of them), for a forecast. */
export function planDay(date: string, calendar: PlanCalendar): BaselinePlan {
  return planBaseline({ date, slots: halfHoursOf(localMidnight(date, calendar.zone)), extraSlots: [] }, calendar);
}

/**
 * The plan of `slots` (and `extraSlots`) of the local day `date`: the 60 days before it, those of
 * its type without an event or a clock change kept as candidates, most recent first.
 */
export function planBaseline(
  target: { date: string; slots: readonly number[]; extraSlots: readonly number[] },
  calendar: PlanCalendar,
): BaselinePlan {
  const { zone, eventDays, holidays } = calendar;
  const midnight = localMidnight(target.date, zone);
  const dayType = dayTypeOf(target.date, holidays);
  const candidates: CandidateDay[] = [];
  const leftOut = { events: 0, clockChanges: 0 };
  for (let back = 1; back <= LOOKBACK_DAYS; back++) {
    const day = midnight.minus({ days: back });
    const date = day.toISODate()!;
    if (dayTypeOf(date, holidays) !== dayType) continue;
    if (eventDays.has(date)) {
      leftOut.events++;
      continue;
    }
    const halfHours = halfHoursOf(day);
    if (halfHours.length !== HALF_HOURS_PER_DAY) {
      leftOut.clockChanges++;
      continue;
    }
    const moved = (t: number) => DateTime.fromMillis(t, { zone }).minus({ days: back }).toMillis();
    candidates.push({ date, halfHours, slots: target.slots.map(moved), extraSlots: target.extraSlots.map(moved) });
  }
  const plan = { zone, date: target.date, dayType, slots: target.slots, extraSlots: target.extraSlots, candidates };
  return { ...plan, leftOut, range: rangeOf(plan) };
}

/** BL01 of one series: the baseline per slot and per extra slot of the plan (kWh), and its verdict. */
export interface SeriesBaseline extends BaselineVerdict {
  kwh: (number | null)[];
  extraKwh: (number | null)[];
}

/** BL01 over `energy` (see the top of this file). */
export function bl01(plan: BaselinePlan, energy: HalfHourly): SeriesBaseline {
  const rule = DAYS[plan.dayType];
  // a slot after midnight falls on the day after a candidate: that half-hour must be there too
  const usable = plan.candidates.filter((d) => hasEvery(energy, d.halfHours) && hasEvery(energy, d.slots));
  const recent = usable.slice(0, rule.wanted);
  const shortOf = () =>
    `only ${recent.length} ${plan.dayType} days with every half-hour in the ${LOOKBACK_DAYS} before ` +
    `${plan.date}, BL01 wants ${rule.wanted} (left out: ${plan.leftOut.events} with an event, ` +
    `${plan.leftOut.clockChanges} with a clock change, ${plan.candidates.length - usable.length} missing a half-hour)`;
  if (recent.length < rule.needed)
    return {
      baseline: 'none',
      incomplete: true,
      daysUsed: [],
      reason: `no baseline: ${shortOf()}, at least ${rule.needed} needed`,
      kwh: plan.slots.map(() => null),
      extraKwh: plan.extraSlots.map(() => null),
    };
  const averaged = plan.dayType === 'working' ? recent : middleDays(recent, energy);
  const complete = recent.length === rule.wanted;
  return {
    baseline: complete ? 'complete' : 'incomplete',
    incomplete: !complete,
    daysUsed: averaged.map((d) => d.date).sort(),
    ...(complete ? {} : { reason: shortOf() }),
    kwh: plan.slots.map((_, i) => meanOf(averaged.map((d) => energy.get(d.slots[i])))),
    extraKwh: plan.extraSlots.map((_, i) => meanOf(averaged.map((d) => energy.get(d.extraSlots[i])))),
  };
}

/**
 * The non-working days averaged: ranked by their energy over the baselined slots, the highest and
 * the lowest dropped. Of 4 days that leaves BL01's middle two; of 3 (incomplete) the middle one;
 * 2 are both kept, as dropping both ends would leave nothing. Equal energies rank the older day lower.
 */
function middleDays(days: readonly CandidateDay[], energy: HalfHourly): CandidateDay[] {
  const ranked = days
    .map((day) => ({ day, kwh: day.slots.reduce((sum, t) => sum + energy.get(t)!, 0) }))
    .sort((a, b) => a.kwh - b.kwh || a.day.date.localeCompare(b.day.date))
    .map((r) => r.day);
  return ranked.length >= 3 ? ranked.slice(1, -1) : ranked;
}

/**
 * The same-day adjustment's factor: actual ÷ baseline summed over `window`. None (null, with the
 * reason) when a half-hour of the window has no actual value or no baseline, or when the baseline
 * there is 0. Not capped: the issue asks for the plain ratio.
 */
export function sameDayFactor(
  actual: HalfHourly,
  window: readonly number[],
  baselineKwh: readonly (number | null)[],
): { factor: number | null; reason?: string } {
  const lacking = window.filter((t, i) => actual.get(t) === undefined || baselineKwh[i] === null).length;
  if (lacking) return { factor: null, reason: `${lacking} half-hour(s) of the adjustment window have no energy value` };
  const baseline = baselineKwh.reduce<number>((sum, v) => sum + v!, 0);
  if (baseline === 0) return { factor: null, reason: 'the baseline over the adjustment window is 0' };
  const used = window.reduce((sum, t) => sum + actual.get(t)!, 0);
  return { factor: used / baseline };
}

/** What one series delivered in an event: per slot and in total (kWh), with its baseline's verdict. */
export interface EventFigures extends BaselineVerdict {
  slots: SlotFigures[];
  /** Σ of the slots' delivered kWh; slots where it cannot be known add nothing. */
  totalDeliveredKwh: number;
}

/**
 * BL01 of an event's half-hours (a plan from planEvent), scaled by the same-day adjustment when
 * asked and possible, against the actual energy: delivered = max(0, baseline − actual) per slot.
 */
export function eventFigures(plan: BaselinePlan, energy: HalfHourly, sameDayAdjustment: boolean): EventFigures {
  const { kwh, extraKwh, ...verdict } = bl01(plan, energy);
  let factor = 1;
  let adjusted: Pick<BaselineVerdict, 'adjustment' | 'adjustmentReason'> = {};
  if (sameDayAdjustment) {
    const found =
      verdict.baseline === 'none'
        ? { factor: null, reason: 'no baseline to adjust' }
        : sameDayFactor(energy, plan.extraSlots, extraKwh);
    if (found.factor !== null) factor = found.factor;
    adjusted =
      found.factor === null ? { adjustment: null, adjustmentReason: found.reason } : { adjustment: found.factor };
  }
  const slots = plan.slots.map((time, i) => {
    const baselineKwh = kwh[i] === null ? null : kwh[i] * factor;
    const actualKwh = energy.get(time) ?? null;
    return { time, baselineKwh, actualKwh, deliveredKwh: deliveredKwh(baselineKwh, actualKwh) };
  });
  const totalDeliveredKwh = slots.reduce((sum, s) => sum + (s.deliveredKwh ?? 0), 0);
  return { ...verdict, ...adjusted, slots, totalDeliveredKwh };
}

/** kWh delivered in a half-hour: the load shed below the baseline, never negative; null without both. */
export function deliveredKwh(baselineKwh: number | null, actualKwh: number | null): number | null {
  return baselineKwh === null || actualKwh === null ? null : Math.max(0, baselineKwh - actualKwh);
}

/**
 * The local half-hours an event touches: every one overlapping [start, start + duration). An
 * event starting at 17:10 for 30 minutes has two, 17:00 and 17:30.
 */
export function eventSlots(startMs: number, durationMinutes: number, zone: string): number[] {
  const endMs = startMs + durationMinutes * 60_000;
  const slots: number[] = [];
  for (let t = localHalfHourStart(startMs, zone); t < endMs; t += HALF_HOUR_MS) slots.push(t);
  return slots;
}

/**
 * The 6 half-hours of the 3 hours ending 1 hour before the event's first half-hour (elapsed time,
 * so across a clock change too). When the event starts inside a half-hour, the window is counted
 * from that half-hour's start: its slots are whole half-hours, as the event's are.
 */
export function adjustmentWindow(firstSlotMs: number): number[] {
  return Array.from({ length: 6 }, (_, i) => firstSlotMs - 4 * HOUR_MS + i * HALF_HOUR_MS);
}

/** Start of the local half-hour holding `tsMs` in `zone` (zones 45 minutes off UTC included). */
export function localHalfHourStart(tsMs: number, zone: string): number {
  const local = tsMs + IANAZone.create(zone).offset(tsMs) * 60_000;
  return tsMs - (((local % HALF_HOUR_MS) + HALF_HOUR_MS) % HALF_HOUR_MS);
}

export function dayTypeOf(date: string, holidays: ReadonlySet<string>): DayType {
  const weekday = DateTime.fromISO(date, { zone: 'utc' }).weekday; // 6 and 7: Saturday and Sunday
  return weekday >= 6 || holidays.has(date) ? 'non-working' : 'working';
}

function localMidnight(date: string, zone: string): DateTime {
  const midnight = DateTime.fromISO(date, { zone }).startOf('day');
  if (!midnight.isValid) throw new Error(`not a local date in ${zone}: ${date}`);
  return midnight;
}

/** The starts of a local day's half-hours: 46, 48 or 50 of them, by its clock changes. */
function halfHoursOf(midnight: DateTime): number[] {
  const startMs = midnight.toMillis();
  const endMs = midnight.plus({ days: 1 }).startOf('day').toMillis();
  const out: number[] = [];
  for (let t = startMs; t < endMs; t += HALF_HOUR_MS) out.push(t);
  return out;
}

function hasEvery(energy: HalfHourly, times: readonly number[]): boolean {
  return times.every((t) => energy.has(t));
}

/** The mean, or null when any value is missing (or there is none). */
function meanOf(values: readonly (number | undefined)[]): number | null {
  if (!values.length || values.includes(undefined)) return null;
  return (values as number[]).reduce((sum, v) => sum + v, 0) / values.length;
}

/** The half-hours a plan reads, from the earliest to the end of the latest. */
function rangeOf(plan: Omit<BaselinePlan, 'leftOut' | 'range'>): { startMs: number; endMs: number } {
  let startMs = Infinity;
  let lastMs = -Infinity;
  const take = (times: readonly number[]) => {
    for (const t of times) {
      if (t < startMs) startMs = t;
      if (t > lastMs) lastMs = t;
    }
  };
  take(plan.slots);
  take(plan.extraSlots);
  for (const day of plan.candidates) {
    take(day.halfHours);
    take(day.slots);
    take(day.extraSlots);
  }
  return { startMs, endMs: lastMs + HALF_HOUR_MS };
}
