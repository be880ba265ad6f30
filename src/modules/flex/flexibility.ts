import { isEnergyUnit, isPowerUnit } from '../../core/energy/units.js';
import type { ReadingsService } from '../readings/index.js';

/** "Now" is the last 15 minutes, as the seed's flexibility estimate. */
export const RECENT_MS = 15 * 60_000;

/**
 * A device's average power (kW) over [nowMs − 15 min, nowMs) from its series: a power gauge (W,
 * kW, MW) → the mean of its readings in the window; an energy counter or interval series (Wh,
 * kWh, MWh) → its energy in the window (the energy functions: increases, resets, interval
 * spreading) ÷ 0.25 h. Null when the series does not exist, holds neither power nor energy, or has
 * nothing in the window (no silent zero).
 */
export async function recentPowerKw(
  readings: ReadingsService,
  series: readonly string[],
  nowMs: number,
  zone: string,
): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>(series.map((s) => [s, null]));
  if (!series.length) return out;
  const startMs = nowMs - RECENT_MS;
  const entries = await readings.catalog(series);
  const gauges = entries.filter((e) => e.kind === 'gauge' && isPowerUnit(e.unit)).map((e) => e.key);
  const meters = entries
    .filter((e) => (e.kind === 'counter' || e.kind === 'interval') && isEnergyUnit(e.unit))
    .map((e) => e.key);
  if (gauges.length) {
    const answer = await readings.query({
      series: gauges,
      startMs,
      endMs: nowMs - 1,
      agg: 'avg',
      fill: 'none',
      unit: 'kW',
    });
    for (const result of answer) {
      const values = result.points.filter((p) => p.ts < nowMs && p.value !== null).map((p) => p.value as number);
      out.set(result.series, values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
    }
  }
  if (meters.length) {
    const energies = await readings.energy.energy(meters, { startMs, endMs: nowMs, zone }, 'kWh');
    for (const e of energies) {
      const value = e.buckets[0]?.value ?? null;
      out.set(e.series, value === null ? null : value / (RECENT_MS / 3_600_000));
    }
  }
  return out;
}
