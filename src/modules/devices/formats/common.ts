import type { SeriesKind } from '../../../core/readings.js';
import { parseTimestamp, timestampProblem } from '../../../core/time/timestamps.js';
import type { SensorType } from '../../buildings/index.js';
import { type DeviceReading, MalformedPayload, type MessageContext, wildcardLevels } from '../format.js';

/**
 * The device a message is from: the levels the subscription's wildcards matched, less the
 * message's own last `ownLevels` levels (`SENSOR`, `relay/0/power`, `events/rpc`). So
 * `tele/+/SENSOR`, `tele/#` and `home/+/tele/SENSOR` all name the Tasmota `plug1`, whatever
 * FullTopic the device has. A filter with no wildcard before those levels names the device by the
 * level just before them (`shellies/plug1/relay/0/power` → `plug1`).
 */
export function deviceOf(ctx: MessageContext, ownLevels: number): string {
  const topic = ctx.topic.split('/');
  const filter = ctx.filter.split('/');
  const head = topic.slice(0, Math.max(0, topic.length - ownLevels));
  // the filter's levels over the head: up to and including a `#` that starts within it
  const hash = filter.indexOf('#');
  const over = hash >= 0 && hash <= head.length ? filter.slice(0, hash + 1) : filter.slice(0, head.length);
  const device = wildcardLevels(over.join('/'), head.join('/'));
  if (device) return device;
  const last = head.at(-1);
  if (!last)
    throw new MalformedPayload(`topic ${ctx.topic} names no device (expected levels before the message's own)`);
  return last;
}

/** The payload as JSON, or a MalformedPayload saying why not. */
export function parseJson(payload: Buffer, what: string): unknown {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MalformedPayload(
      `${what} is not JSON: ${(err as Error).message} (got ${JSON.stringify(text.slice(0, 40))})`,
    );
  }
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON object, or a MalformedPayload naming what it is instead. */
export function expectObject(value: unknown, what: string): Record<string, unknown> {
  if (!isObject(value)) throw new MalformedPayload(`${what} must be a JSON object (got ${describe(value)})`);
  return value;
}

/** A finite number, or a MalformedPayload naming the field: a bad value is never a silent zero. */
export function expectNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new MalformedPayload(`${field} must be a number (got ${describe(value)})`);
  return value;
}

/**
 * A device's clock reading, in Unix seconds (or `precision`), as epoch ms; a MalformedPayload naming
 * the field when it is no number or no time a reading can have (beyond ±275,000 years).
 */
export function expectEpoch(value: unknown, field: string, precision: 's' | 'ms' = 's'): number {
  const ms = parseTimestamp(expectNumber(value, field), precision);
  if (Number.isNaN(ms)) throw new MalformedPayload(timestampProblem(value, precision, field));
  return ms;
}

/** A field that may be absent: undefined when missing or null (unknown, never 0), else a finite number. */
export function optionalNumber(value: unknown, field: string): number | undefined {
  return value === undefined || value === null ? undefined : expectNumber(value, field);
}

/** A plain-number payload (`42.5`), as Shelly Gen1 publishes each value on its own topic. */
export function plainNumber(payload: Buffer, topic: string): number {
  const text = payload.toString('utf8').trim();
  const value = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value))
    throw new MalformedPayload(`${topic} must carry a number (got ${JSON.stringify(text.slice(0, 40))})`);
  return value;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** What a quantity is: unit, kind and the sensor type it registers as. */
export interface Quantity {
  unit: string | null;
  kind: SeriesKind;
  sensorType: SensorType;
}

/**
 * The quantities the formats report. Only a device's own total power and total energy register as
 * `power`/`energy` sensors: phases, channels' parts, returned energy and daily counters are
 * `generic`, so the buildings module's room sums never count the same energy twice.
 */
export const Q = {
  power: { unit: 'W', kind: 'gauge', sensorType: 'power' },
  powerPart: { unit: 'W', kind: 'gauge', sensorType: 'generic' },
  apparentPower: { unit: 'VA', kind: 'gauge', sensorType: 'generic' },
  reactivePower: { unit: 'var', kind: 'gauge', sensorType: 'generic' },
  voltage: { unit: 'V', kind: 'gauge', sensorType: 'voltage' },
  current: { unit: 'A', kind: 'gauge', sensorType: 'current' },
  powerFactor: { unit: null, kind: 'gauge', sensorType: 'generic' },
  frequency: { unit: 'Hz', kind: 'gauge', sensorType: 'generic' },
  energyKwh: { unit: 'kWh', kind: 'counter', sensorType: 'energy' },
  energyKwhPart: { unit: 'kWh', kind: 'counter', sensorType: 'generic' },
  energyWh: { unit: 'Wh', kind: 'counter', sensorType: 'energy' },
  energyWhPart: { unit: 'Wh', kind: 'counter', sensorType: 'generic' },
} as const satisfies Record<string, Quantity>;

/** One reading of `quantity` on `device`. */
export const reading = (device: string, quantity: string, ts: number, value: number, q: Quantity): DeviceReading => ({
  device,
  quantity,
  ts,
  value,
  unit: q.unit,
  kind: q.kind,
  sensorType: q.sensorType,
});
