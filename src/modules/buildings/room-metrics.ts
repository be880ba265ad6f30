import { emitRoomMetrics } from './events.js';
import { energyMethod, energyPerBucket } from '../../core/energy/by-kind.js';
import { conversionFactor, isEnergyUnit, isPowerUnit } from '../../core/energy/units.js';
import type { Bus } from '../../core/bus/index.js';
import { READINGS_TOPIC, ReadingBatchBuilder } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import { startOfLocalDay } from '../../core/time/buckets.js';
import type { ReadingsService, SeriesEntry } from '../readings/index.js';
import { listRooms, listSensors, type Sensor } from './repository.js';
import { ROOM_METRICS, type RoomMetric, roomSeriesKey } from './room-series.js';
import { sensorStatus } from './view.js';

/** Most readings the counter-rate read may hold (a few minutes of every counter). */
const RATE_MAX_READINGS = 1_000_000;

export type RoomMetrics = Record<RoomMetric, number | null>;
export interface RoomMetricsAnswer {
  room: string;
  metrics: RoomMetrics;
  /** ISO 8601 UTC: when they were computed (the stored readings' time). */
  at: string;
}

/** What the metrics read and how they decide "online". */
export interface MetricsContext {
  readings: ReadingsService;
  offlineAfterMs: number;
}

/** Catalog entries of the sensors' series, by key: one in-memory catalog call. */
export async function entriesOf(readings: ReadingsService, sensors: readonly Sensor[]) {
  const entries = await readings.catalog([...new Set(sensors.map((s) => s.series))]);
  return new Map(entries.map((e) => [e.key, e]));
}

/** Whether energy arithmetic can read the series: a power gauge or an energy counter/interval. */
export function holdsEnergy(entry: SeriesEntry | undefined): entry is SeriesEntry {
  if (!entry) return false;
  try {
    energyMethod(entry, 'kWh');
    return true;
  } catch {
    return false;
  }
}

/**
 * Watts now of each online power or energy sensor, by sensor id. A power gauge: its latest value
 * in W. An energy counter: its rate, the increase from the last reading before the last
 * `offlineAfterMs` (else the first within it) to its latest, ÷ the time between them (energy
 * functions: resets are handled); one reading only gives no rate. Offline sensors give nothing.
 */
export async function powerNow(
  ctx: MetricsContext,
  sensors: readonly Sensor[],
  entries: Map<string, SeriesEntry>,
  nowMs: number,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const counters: Sensor[] = [];
  for (const s of sensors) {
    const entry = entries.get(s.series);
    if (!entry || sensorStatus(entry, nowMs, ctx.offlineAfterMs) !== 'online') continue;
    if (entry.kind === 'gauge' && isPowerUnit(entry.unit))
      out.set(s.sensorId, entry.lastValue * conversionFactor(entry.unit!, 'W')!);
    else if (entry.kind === 'counter' && isEnergyUnit(entry.unit)) counters.push(s);
  }
  if (!counters.length) return out;
  const around = await ctx.readings.around({
    series: [...new Set(counters.map((s) => s.series))],
    startMs: nowMs - ctx.offlineAfterMs,
    endMs: nowMs + 1,
    maxReadings: RATE_MAX_READINGS,
  });
  for (const s of counters) {
    const found = around.get(s.series);
    if (!found) continue;
    const { ts, length } = found.points;
    let last = length - 1;
    while (last > 0 && ts[last] > nowMs) last--; // a reading after now (clock skew) is not "now"
    if (last < 1 || !(ts[last] > ts[0])) continue;
    const edges = Float64Array.of(ts[0], ts[last]);
    const wh = energyPerBucket(found.entry, found.points, edges, 'Wh', ctx.readings.energy.options).values[0];
    out.set(s.sensorId, (wh * 3_600_000) / (ts[last] - ts[0]));
  }
  return out;
}

/**
 * kWh of each power or energy sensor over [startMs, endMs), by series key: ONE energy call for all
 * of them (counters by increase, power gauges by integral). Series energy cannot read are left out.
 */
export async function energyBySeries(
  readings: ReadingsService,
  sensors: readonly Sensor[],
  entries: Map<string, SeriesEntry>,
  range: { startMs: number; endMs: number; zone: string },
): Promise<Map<string, number>> {
  const keys = [...new Set(sensors.map((s) => s.series))].filter((k) => holdsEnergy(entries.get(k)));
  if (!keys.length || !(range.endMs > range.startMs)) return new Map();
  const results = await readings.energy.energy(keys, range, 'kWh');
  return new Map(results.map((r) => [r.series, r.total]));
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
const sum = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) : null);

/**
 * Per room: present power (W, see powerNow), energy today (kWh since local midnight in `zone`),
 * the mean of the latest temperature, humidity and CO2 of its online sensors, and occupancy as the
 * SUM of its online occupancy sensors (each counts the people in its part of the room). A metric
 * without a sensor to give it is null.
 */
export async function roomMetrics(
  ctx: MetricsContext & { store: Store; zone: string },
  nowMs: number,
): Promise<RoomMetricsAnswer[]> {
  const [rooms, all] = await Promise.all([listRooms(ctx.store), listSensors(ctx.store)]);
  const sensors = all.filter((s) => s.room !== null);
  const entries = await entriesOf(ctx.readings, sensors);
  const power = await powerNow(ctx, sensors, entries, nowMs);
  const today = await energyBySeries(ctx.readings, sensors, entries, {
    startMs: startOfLocalDay(nowMs, ctx.zone),
    endMs: nowMs,
    zone: ctx.zone,
  });
  const at = new Date(nowMs).toISOString();
  return rooms.map((room) => {
    const own = sensors.filter((s) => s.room === room.name);
    const latest = (type: Sensor['sensorType']) =>
      own
        .filter((s) => s.sensorType === type)
        .map((s) => entries.get(s.series))
        .filter((e) => sensorStatus(e, nowMs, ctx.offlineAfterMs) === 'online')
        .map((e) => e!.lastValue);
    const watts = own.filter((s) => power.has(s.sensorId)).map((s) => power.get(s.sensorId)!);
    const kwh = [...new Set(own.map((s) => s.series))].filter((k) => today.has(k)).map((k) => today.get(k)!);
    const hasEnergySensors = own.some((s) => holdsEnergy(entries.get(s.series)));
    return {
      room: room.name,
      metrics: {
        power_w: sum(watts),
        energy_today_kwh: kwh.length ? sum(kwh) : hasEnergySensors ? 0 : null,
        temperature_c: mean(latest('temperature')),
        humidity_pct: mean(latest('humidity')),
        co2_ppm: mean(latest('co2')),
        occupancy: sum(latest('occupancy')),
      },
      at,
    };
  });
}

/**
 * Computes every room's metrics now, stores them as readings `rooms/<slug>/<metric>` (published on
 * the readings topic like any adapter's) and broadcasts `{type:'room_metrics', room, metrics, at}`
 * on `energy_data`. Each room series' unit and kind is described once per process.
 */
export function createRoomMetrics(ctx: MetricsContext & { store: Store; bus: Bus; zone: string; now: () => number }) {
  const described = new Set<string>();
  return async function computeRoomMetrics(): Promise<RoomMetricsAnswer[]> {
    const nowMs = ctx.now();
    const answers = await roomMetrics(ctx, nowMs);
    const builder = new ReadingBatchBuilder(answers.length * Object.keys(ROOM_METRICS).length);
    const describe: { key: string; unit: string | null; kind: 'gauge' }[] = [];
    for (const { room, metrics } of answers) {
      for (const [metric, value] of Object.entries(metrics) as [RoomMetric, number | null][]) {
        if (value === null || !Number.isFinite(value)) continue;
        const key = roomSeriesKey(room, metric);
        if (!described.has(key)) describe.push({ key, ...ROOM_METRICS[metric] });
        builder.add({ series: key, ts: nowMs, value });
      }
    }
    if (describe.length) {
      await ctx.readings.describe(describe);
      for (const d of describe) described.add(d.key);
    }
    if (builder.length) await ctx.bus.publish(READINGS_TOPIC, builder.take(false));
    for (const answer of answers) emitRoomMetrics(ctx.bus, { type: 'room_metrics', ...answer });
    return answers;
  };
}
