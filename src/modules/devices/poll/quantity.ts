import { DateTime } from 'luxon';
import type { SeriesKind } from '../../../core/readings.js';
import type { SensorType } from '../../buildings/index.js';
import type { DeviceReading } from '../format.js';

/** How a unit is stored and registered: energy totals are counters (their resets handled by the energy functions). */
const BY_UNIT: Record<string, { kind: SeriesKind; sensorType: SensorType }> = {
  W: { kind: 'gauge', sensorType: 'power' },
  kW: { kind: 'gauge', sensorType: 'power' },
  Wh: { kind: 'counter', sensorType: 'energy' },
  kWh: { kind: 'counter', sensorType: 'energy' },
  V: { kind: 'gauge', sensorType: 'voltage' },
  A: { kind: 'gauge', sensorType: 'current' },
  '°C': { kind: 'gauge', sensorType: 'temperature' },
  '%': { kind: 'gauge', sensorType: 'humidity' },
};

/**
 * The readings of one poll of an http-json device, all at the device's time `ts`: the unit (from the
 * field's name) says the kind and sensor type. The vendor families use their MQTT format's mappers.
 */
export class PollReadings {
  readonly readings: DeviceReading[] = [];
  constructor(
    readonly device: string,
    readonly ts: number,
  ) {}

  /** Adds `quantity` when `value` is a finite number: a missing field is unknown, never 0. */
  add(quantity: string, value: unknown, unit: string | null): this {
    if (typeof value !== 'number' || !Number.isFinite(value)) return this;
    const { kind, sensorType } = (unit && BY_UNIT[unit]) || { kind: 'gauge' as const, sensorType: 'generic' as const };
    this.readings.push({ device: this.device, quantity, ts: this.ts, value, unit, kind, sensorType });
    return this;
  }
}

/** A device's Unix seconds as epoch ms; undefined when the device has no clock yet (0, absent). */
export function unixSeconds(value: unknown): number | undefined {
  return typeof value === 'number' && value > 1_000_000_000 ? Math.round(value * 1000) : undefined;
}

/**
 * A device's ISO time as epoch ms: one without an offset (Tasmota's `Time`) is local time in `zone`;
 * undefined when it is not a time.
 */
export function localTime(value: unknown, zone: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  const t = DateTime.fromISO(value, { zone });
  return t.isValid ? t.toMillis() : undefined;
}
