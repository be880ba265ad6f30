import { energyMethod } from '../../core/energy/by-kind.js';
import { zoneOffsets } from '../../core/time/zone-offsets.js';
import type { ReadingsService } from '../readings/index.js';
import {
  type BaselinePlan,
  type BaselineVerdict,
  bl01,
  eventFigures,
  HALF_HOUR_MS,
  type HalfHourly,
  localHalfHourStart,
  type PlanCalendar,
  planDay,
  planEvent,
  type SlotFigures,
} from './baseline.js';

export type { BaselineVerdict, SlotFigures } from './baseline.js';

export interface ReportInput {
  readings: ReadingsService;
  /** IANA, the building's time zone. */
  zone: string;
  event: { startMs: number; durationMinutes: number; loadKwh: number };
  /** A device = a buildings sensor and its series. */
  devices: readonly { id: string; series: string }[];
  /** Local dates (YYYY-MM-DD) of OTHER events, left out of baselines. */
  eventDays: ReadonlySet<string>;
  holidays: ReadonlySet<string>;
  rewardPerKwh: number;
  sameDayAdjustment: boolean;
}

export interface DeviceReport extends BaselineVerdict {
  id: string;
  series: string;
  slots: SlotFigures[];
  totalDeliveredKwh: number;
}

export interface EventReport extends BaselineVerdict {
  /** The total over the devices. */
  slots: SlotFigures[];
  devices: DeviceReport[];
  totalDeliveredKwh: number;
  requestedKwh: number;
  /** Delivered ÷ requested; null when requested is 0. */
  deliveredShare: number | null;
  /** rewardPerKwh × total delivered. */
  benefit: number;
  baselineMethod: 'BL01' | 'BL01 with same-day adjustment';
}

type DayBaselineSlot = { time: number; baselineKwh: number | null };

/**
 * What an event delivered, per device and in total: per half-hour of the event its BL01 baseline
 * (baseline.ts), the actual energy and the kWh delivered, with the share of the load asked for and
 * the benefit. The total is BL01 over the devices' summed energy, so a day where any device lacks
 * a half-hour is left out of it. A device whose series holds no energy (or does not exist) has no
 * baseline, says why, and is left out of the total. One energy call reads every device over the
 * 60 days before and the event's day; more readings than `energy.maxReadings` in that range is the
 * energy functions' 400 (too_many_readings).
 */
export async function eventReport(input: ReportInput): Promise<EventReport> {
  const { event, sameDayAdjustment } = input;
  const plan = planEvent(event, calendarOf(input));
  const { energy, problems } = await readHalfHourly(input, plan);
  const devices = input.devices.map((device): DeviceReport => {
    const problem = problems.get(device.series);
    const figures = eventFigures(plan, energy.get(device.series) ?? new Map(), sameDayAdjustment);
    return { id: device.id, series: device.series, ...figures, ...(problem ? { reason: problem } : {}) };
  });
  const metered = [...energy.values()];
  const total = eventFigures(plan, summed(metered), sameDayAdjustment);
  if (!metered.length) total.reason = 'no baseline: no device of the event holds energy';
  return {
    ...total,
    devices,
    requestedKwh: event.loadKwh,
    deliveredShare: event.loadKwh > 0 ? total.totalDeliveredKwh / event.loadKwh : null,
    benefit: input.rewardPerKwh * total.totalDeliveredKwh,
    baselineMethod: typeof total.adjustment === 'number' ? 'BL01 with same-day adjustment' : 'BL01',
  };
}

/** Per device and in total, the BL01 baseline of every half-hour of a local day (for a flexibility forecast). */
export async function dayBaseline(
  input: Omit<ReportInput, 'event' | 'rewardPerKwh' | 'sameDayAdjustment'> & { date: string },
): Promise<{ slots: DayBaselineSlot[]; devices: { id: string; slots: DayBaselineSlot[] }[] } & BaselineVerdict> {
  const plan = planDay(input.date, calendarOf(input));
  const { energy } = await readHalfHourly(input, plan);
  const slotsOf = (kwh: readonly (number | null)[]) => plan.slots.map((time, i) => ({ time, baselineKwh: kwh[i] }));
  const devices = input.devices.map((device) => ({
    id: device.id,
    slots: slotsOf(bl01(plan, energy.get(device.series) ?? new Map()).kwh),
  }));
  const metered = [...energy.values()];
  const { kwh, extraKwh: _, ...verdict } = bl01(plan, summed(metered));
  if (!metered.length) verdict.reason = 'no baseline: no device holds energy';
  return { ...verdict, slots: slotsOf(kwh), devices };
}

function calendarOf(input: { zone: string; eventDays: ReadonlySet<string>; holidays: ReadonlySet<string> }) {
  return { zone: input.zone, eventDays: input.eventDays, holidays: input.holidays } satisfies PlanCalendar;
}

/**
 * Each device series' kWh per local half-hour over the plan's range, by series key, from ONE call
 * of the energy functions (counters by increase, power gauges by integral); and, by series key,
 * why a series cannot be read (it does not exist, or holds no energy).
 */
async function readHalfHourly(
  input: { readings: ReadingsService; zone: string; devices: readonly { series: string }[] },
  plan: BaselinePlan,
): Promise<{ energy: Map<string, HalfHourly>; problems: Map<string, string> }> {
  const { readings, zone } = input;
  const keys = [...new Set(input.devices.map((d) => d.series))];
  const entries = new Map((await readings.catalog(keys)).map((e) => [e.key, e]));
  const problems = new Map<string, string>();
  for (const key of keys) {
    const entry = entries.get(key);
    if (!entry) problems.set(key, `no baseline: series "${key}" does not exist`);
    else
      try {
        energyMethod(entry, 'kWh');
      } catch (err) {
        problems.set(key, `no baseline: ${(err as Error).message}`);
      }
  }
  const metered = keys.filter((k) => !problems.has(k));
  const energy = new Map<string, HalfHourly>();
  if (!metered.length) return { energy, problems };
  const { startMs, endMs } = plan.range;
  const window = halfHourWindow(zone, startMs, endMs);
  const results = await readings.energy.energy(metered, { startMs, endMs, window, zone }, 'kWh');
  for (const r of results) energy.set(r.series, byLocalHalfHour(r.buckets, zone));
  return { energy, problems };
}

/**
 * The energy functions' 30-minute window is epoch-aligned: local half-hours wherever the zone is a
 * whole number of half-hours off UTC. Elsewhere (Asia/Kathmandu, +5:45) 15-minute buckets are read
 * and paired into local half-hours.
 */
function halfHourWindow(zone: string, startMs: number, endMs: number): '30m' | '15m' {
  const { offsetMs } = zoneOffsets(zone, startMs, endMs);
  return offsetMs.every((o) => o % HALF_HOUR_MS === 0) ? '30m' : '15m';
}

/** Buckets summed into the local half-hour holding them; a half-hour with an uncovered bucket has no value. */
function byLocalHalfHour(buckets: readonly { ts: number; value: number | null }[], zone: string): HalfHourly {
  const kwh = new Map<number, number>();
  const gaps = new Set<number>();
  for (const { ts, value } of buckets) {
    const slot = localHalfHourStart(ts, zone);
    if (value === null) gaps.add(slot);
    else kwh.set(slot, (kwh.get(slot) ?? 0) + value);
  }
  for (const slot of gaps) kwh.delete(slot);
  return kwh;
}

/** The half-hours every series has a value for, summed: a device lacking one leaves it out of the total. */
function summed(series: readonly HalfHourly[]): HalfHourly {
  const total = new Map<number, number>();
  if (!series.length) return total;
  const [first, ...rest] = series;
  for (const [t, kwh] of first) {
    let sum = kwh;
    for (const other of rest) {
      const v = other.get(t);
      if (v === undefined) {
        sum = Number.NaN;
        break;
      }
      sum += v;
    }
    if (!Number.isNaN(sum)) total.set(t, sum);
  }
  return total;
}
