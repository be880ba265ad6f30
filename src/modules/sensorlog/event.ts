import { z } from 'zod';
import { InvalidInput } from '../../core/errors.js';
import type { SensorLogEvent } from './parser.js';

const num = z.number({ error: 'expected a number' });
// stored as BIGINT and written into series keys: a safe integer, so `1.5` and `1e21` are refused, not rounded
const whole = z
  .number({ error: 'expected a whole number' })
  .int({ error: `expected a whole number from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}` });
const list = z.array(num, { error: 'expected a list of numbers' });
const one = <T extends z.ZodType>(item: T) => z.tuple([item], { error: 'expected one value' });

/** The fields energy-sensors stored per event, read from a parsed line (section and key names as devices send them). */
const storedEvent = z.object({
  Device: z.object({ ID: whole, Fw: whole.optional(), Evt: whole.optional() }),
  Alarms: z.object({ CoilRevesed: z.boolean() }).partial().optional(),
  Power: z.object({ Active: num, Reactive: num, Appearent: num }),
  Line: z.object({ Current: num, Voltage: num, Phase: num }),
  Peaks: list.optional(),
  'FFT Re': list.optional(),
  'FFT Img': list.optional(),
  'UTC Time': one(z.iso.datetime({ offset: true, error: 'expected a date like 2016-10-4 16:47:50' })),
  hz: one(num).optional(),
  'WiFi Strength': one(num).optional(),
});

export interface SensorEvent {
  deviceId: number;
  firmware: number | null;
  eventCode: number | null;
  reportedAtMs: number;
  coilReversed: boolean | null;
  powerActiveW: number;
  powerReactiveVar: number;
  powerApparentVa: number;
  lineCurrentA: number;
  lineVoltageV: number;
  linePhaseRad: number;
  frequencyHz: number | null;
  wifiStrength: number | null;
  currentPeaks: number[];
  fftRe: number[];
  fftImg: number[];
}

/** The stored fields of a parsed event, or a 400 naming the first missing or wrong one. */
export function toSensorEvent(event: SensorLogEvent | unknown): SensorEvent {
  const parsed = storedEvent.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    throw new InvalidInput('invalid_event', `${field || 'event'}: ${issue.message}`, { field });
  }
  const e = parsed.data;
  return {
    deviceId: e.Device.ID,
    firmware: e.Device.Fw ?? null,
    eventCode: e.Device.Evt ?? null,
    reportedAtMs: Date.parse(e['UTC Time'][0]),
    coilReversed: e.Alarms?.CoilRevesed ?? null,
    powerActiveW: e.Power.Active,
    powerReactiveVar: e.Power.Reactive,
    powerApparentVa: e.Power.Appearent,
    lineCurrentA: e.Line.Current,
    lineVoltageV: e.Line.Voltage,
    linePhaseRad: e.Line.Phase,
    frequencyHz: e.hz?.[0] ?? null,
    wifiStrength: e['WiFi Strength']?.[0] ?? null,
    currentPeaks: e.Peaks ?? [],
    fftRe: e['FFT Re'] ?? [],
    fftImg: e['FFT Img'] ?? [],
  };
}

/** The event's numbers as readings: `sensorlog/<device>/<field>`, so they chart like any series. */
export const READING_FIELDS = {
  power_active_w: 'powerActiveW',
  power_reactive_var: 'powerReactiveVar',
  power_apparent_va: 'powerApparentVa',
  line_current_a: 'lineCurrentA',
  line_voltage_v: 'lineVoltageV',
  line_phase_rad: 'linePhaseRad',
  frequency_hz: 'frequencyHz',
  wifi_strength: 'wifiStrength',
} as const satisfies Record<string, keyof SensorEvent>;
