import type { Bus } from '../../core/bus/index.js';
import { READINGS_LIVE_TOPIC, type ReadingBatch } from '../../core/readings.js';
import { energyPerBucket } from '../../core/energy/by-kind.js';
import { conversionFactor } from '../../core/energy/units.js';
import type { WindowName } from '../../core/time/buckets.js';
import type { PointsAround, ReadingsService, SeriesEntry } from '../readings/index.js';
import { FinishedSlots, SLOT_MS, type SlotFigure } from './finished-slots.js';

/** Most readings an open end of the range may hold (its few minutes of every sensor). */
const OPEN_END_MAX_READINGS = 1_000_000;

/** The longest summary whose finished slots are kept; longer ones read everything from the store. */
export const KEPT_HOURS = 48;

export interface SummaryRange {
  /** Series energy arithmetic can read (power gauges, energy counters and interval series). */
  meters: readonly SeriesEntry[];
  /** Power gauges (any power unit): their peak is read in W. */
  gauges: readonly SeriesEntry[];
  startMs: number;
  endMs: number;
  zone: string;
}

export interface SummaryAnswer {
  /** kWh over [startMs, endMs) per series key. */
  energy: Map<string, number>;
  /**
   * The highest sum over the gauges of their max in one window bucket (W): 15 minutes up to 48
   * hours, 1 hour up to 31 days, a day beyond; null without a power reading.
   */
  peak: number | null;
}

export type SummaryFigures = ReturnType<typeof createSummaryFigures>;

/**
 * Energy per series and peak power over the last hours, for `/api/v1/analytics/summary`. Up to
 * `KEPT_HOURS`, the figures of whole 15-minute slots are kept between requests (finished-slots.ts):
 * a request reads from the store only the slots that changed since, and the two open ends of its
 * range. The sums are the energy functions' (spans cut at the slot edges add up to the whole).
 * `ttlMs` 0 keeps nothing.
 */
export function createSummaryFigures(readings: ReadingsService, options: { ttlMs: number; now: () => number }) {
  const energyFigure: SlotFigure = {
    absent: 0,
    async compute(keys, startMs, endMs) {
      const results = await readings.energy.energy(keys, { startMs, endMs, window: '15m', zone: 'UTC' }, 'kWh');
      return new Map(results.map((r) => [r.series, new Map(r.buckets.map((b) => [b.ts, b.value ?? 0]))]));
    },
  };
  const peakFigure: SlotFigure = {
    absent: Number.NaN,
    compute: (keys, startMs, endMs) => maxPerBucket(readings, keys, startMs, endMs - 1, '15m'),
  };
  const kept = { keepMs: KEPT_HOURS * 3_600_000, ttlMs: options.ttlMs, now: options.now };
  const energySlots = new FinishedSlots(energyFigure, kept);
  const peakSlots = new FinishedSlots(peakFigure, kept);

  // The raw readings of the slot the range starts in, with their neighbours: a request within the
  // same 15 minutes finds its head (from its start to the slot's end) in them instead of reading it
  // again. A committed reading of one of the series before that series' next neighbour drops them.
  let head: { slotStart: number; keys: string; keySet: Set<string>; found: Map<string, PointsAround> } | undefined;
  let headReads = 0;
  let headWrites = 0;

  function committed(batch: ReadingBatch) {
    if (!head && !headReads) return;
    const firstTs = new Float64Array(batch.keys.length).fill(Infinity);
    for (let i = 0; i < batch.length; i++) {
      const k = batch.keyIndex[i];
      if (batch.ts[i] < firstTs[k]) firstTs[k] = batch.ts[i];
    }
    batch.keys.forEach((key, k) => {
      if (firstTs[k] === Infinity) return;
      if (headReads) headWrites++; // a read under way may miss it: not kept
      if (!head?.keySet.has(key)) return;
      const own = head.found.get(key);
      const next = own?.points.length ? own.points.ts[own.points.length - 1] : Number.NaN;
      const nextTs = next >= head.slotStart + SLOT_MS ? next : Number.POSITIVE_INFINITY;
      if (firstTs[k] <= nextTs) head = undefined;
    });
  }

  /** The readings of the slot [slotStart, slotStart + 15 min) of `keys` with their neighbours: kept, or read. */
  async function headSlot(keys: readonly string[], slotStart: number): Promise<Map<string, PointsAround>> {
    const joined = `\0${keys.join('\0')}\0`;
    if (head && head.slotStart === slotStart && head.keys === joined) return head.found;
    const writes = headWrites;
    headReads++;
    try {
      const found = await readings.around({
        series: keys,
        startMs: slotStart,
        endMs: slotStart + SLOT_MS,
        maxReadings: OPEN_END_MAX_READINGS,
      });
      if (options.ttlMs > 0 && headWrites === writes) head = { slotStart, keys: joined, keySet: new Set(keys), found };
      return found;
    } finally {
      headReads--;
    }
  }

  /** Energy of each meter over [startMs, endMs), read whole. */
  async function energyOver(meters: readonly SeriesEntry[], startMs: number, endMs: number, zone: string) {
    if (!meters.length || !(endMs > startMs)) return new Map<string, number>();
    const results = await readings.energy.energy(
      meters.map((e) => e.key),
      { startMs, endMs, zone },
      'kWh',
    );
    return new Map(results.map((r) => [r.series, r.total]));
  }

  /** Σ over gauges of their max per bucket, by bucket start, for [startMs, endMs] (inclusive). */
  async function peakSums(gauges: readonly SeriesEntry[], startMs: number, endMs: number, window: WindowName) {
    const sums = new Map<number, number>();
    if (!gauges.length || endMs < startMs) return sums;
    const byKey = await maxPerBucket(
      readings,
      gauges.map((e) => e.key),
      startMs,
      endMs,
      window,
    );
    for (const buckets of byKey.values()) for (const [ts, w] of buckets) sums.set(ts, (sums.get(ts) ?? 0) + w);
    return sums;
  }

  async function over(range: SummaryRange): Promise<SummaryAnswer> {
    const { meters, gauges, startMs, endMs, zone } = range;
    const firstSlot = Math.ceil(startMs / SLOT_MS) * SLOT_MS;
    const endSlot = Math.floor(endMs / SLOT_MS) * SLOT_MS;
    const hours = (endMs - startMs) / 3_600_000;
    if (options.ttlMs === 0 || hours > KEPT_HOURS || endSlot <= firstSlot) {
      const [energy, sums] = await Promise.all([
        energyOver(meters, startMs, endMs, zone),
        peakSums(gauges, startMs, endMs, hours <= 48 ? '15m' : hours <= 31 * 24 ? '1h' : '1d'),
      ]);
      return { energy, peak: highest(sums.values()) };
    }
    // the open ends read whole (each one read of its few minutes), the slots between from what is kept
    const [head, tail, slotEnergy, slotPeaks] = await Promise.all([
      openEnd(meters, gauges, startMs, firstSlot, false, (keys) => headSlot(keys, firstSlot - SLOT_MS)),
      openEnd(meters, gauges, endSlot, endMs, true),
      energySlots.slots(meters, firstSlot, endSlot),
      peakSlots.slots(gauges, firstSlot, endSlot),
    ]);
    const energy = new Map<string, number>();
    for (const { key } of meters) {
      let kwh = (head.energy.get(key) ?? 0) + (tail.energy.get(key) ?? 0);
      for (const v of slotEnergy.get(key) ?? []) kwh += v;
      energy.set(key, kwh);
    }
    const slots = new Float64Array(Math.round((endSlot - firstSlot) / SLOT_MS)).fill(Number.NaN);
    for (const values of slotPeaks.values())
      values.forEach((w, i) => {
        if (!Number.isNaN(w)) slots[i] = (Number.isNaN(slots[i]) ? 0 : slots[i]) + w;
      });
    return { energy, peak: highest([head.peak, tail.peak, ...slots]) };
  }

  /**
   * Energy of each meter over [startMs, endMs) and the gauges' summed max (W) over the readings in
   * it (with one at `endMs` too when `endInclusive`, as a query's end is): the part of the period
   * in a slot the summary does not keep, worked out by the energy functions from one read — or
   * from `read`, readings around a wider range (the kept head slot).
   */
  async function openEnd(
    meters: readonly SeriesEntry[],
    gauges: readonly SeriesEntry[],
    startMs: number,
    endMs: number,
    endInclusive: boolean,
    read = (keys: readonly string[]) =>
      readings.around({ series: keys, startMs, endMs, maxReadings: OPEN_END_MAX_READINGS }),
  ): Promise<{ energy: Map<string, number>; peak: number }> {
    const energy = new Map<string, number>();
    const keys = [...new Set([...meters, ...gauges].map((e) => e.key))];
    if (!keys.length || !(endMs > startMs || endInclusive)) return { energy, peak: Number.NaN };
    const found = await read(keys);
    const edges = Float64Array.of(startMs, endMs);
    // the entries as the catalog has them now (a unit may have changed since kept points were read)
    if (endMs > startMs)
      for (const entry of meters) {
        const own = found.get(entry.key);
        if (own)
          energy.set(entry.key, energyPerBucket(entry, own.points, edges, 'kWh', readings.energy.options).values[0]);
      }
    let peak = Number.NaN;
    for (const entry of gauges) {
      const own = found.get(entry.key);
      if (!own) continue;
      const { ts, value, length } = own.points;
      let top = Number.NaN;
      for (let i = 0; i < length; i++)
        if (ts[i] >= startMs && (ts[i] < endMs || (endInclusive && ts[i] === endMs)) && !(value[i] <= top))
          top = value[i];
      if (!Number.isNaN(top)) peak = (Number.isNaN(peak) ? 0 : peak) + top * conversionFactor(entry.unit!, 'W')!;
    }
    return { energy, peak };
  }

  return {
    over,
    /** Follows commit notices so kept figures are dropped when readings change them; returns how to stop. */
    follow(bus: Bus) {
      const stops = [
        energySlots.follow(bus),
        peakSlots.follow(bus),
        bus.subscribe<ReadingBatch>(READINGS_LIVE_TOPIC, committed),
      ];
      return () => {
        for (const stop of stops) stop();
      };
    },
  };
}

/** Each series' max per window bucket in W, by bucket start (buckets without a reading left out). */
async function maxPerBucket(
  readings: ReadingsService,
  keys: string[],
  startMs: number,
  endMs: number,
  window: WindowName,
): Promise<Map<string, Map<number, number>>> {
  const results = await readings.query({ series: keys, startMs, endMs, window, agg: 'max', fill: 'none', unit: 'W' });
  const out = new Map<string, Map<number, number>>();
  for (const r of results) {
    const buckets = new Map<number, number>();
    for (const p of r.points) if (p.value !== null) buckets.set(p.ts, p.value);
    out.set(r.series, buckets);
  }
  return out;
}

/** The largest number, NaN skipped; null when there is none. */
function highest(values: Iterable<number>): number | null {
  let top: number | null = null;
  for (const v of values) if (!Number.isNaN(v) && (top === null || v > top)) top = v;
  return top;
}
