import { isKnownUnit, KNOWN_UNITS } from '../../../core/energy/units.js';
import { SERIES_KEY_PATTERN, SERIES_KINDS, type SeriesKind } from '../../../core/readings.js';
import { parseTimestamp, timestampProblem } from '../../../core/time/timestamps.js';
import type { SensorType } from '../../buildings/index.js';
import { type DeviceReading, MalformedPayload, type PayloadFormat } from '../format.js';
import { expectNumber, isObject, parseJson } from './common.js';

/** The sensor type a unit suggests (a json reading names no type). */
const SENSOR_TYPE_BY_UNIT: Record<string, SensorType> = {
  W: 'power',
  kW: 'power',
  MW: 'power',
  Wh: 'energy',
  kWh: 'energy',
  MWh: 'energy',
  V: 'voltage',
  A: 'current',
  '°C': 'temperature',
};
const ENERGY_UNITS = new Set(['Wh', 'kWh', 'MWh']);

/** One `{"series","value","ts","unit","kind"}` object as a reading, or why it is not one. */
function reading(item: unknown, receivedMs: number): DeviceReading {
  if (!isObject(item)) throw new MalformedPayload('expected {"series","value","ts"} or an array of them');
  const { series, ts, unit, kind } = item;
  const value = expectNumber(item.value, 'value');
  if (typeof series !== 'string' || !SERIES_KEY_PATTERN.test(series) || !series.includes('/'))
    throw new MalformedPayload(
      `series must be a key <device>/<quantity> such as meter1/power (got ${JSON.stringify(series)?.slice(0, 40)})`,
    );
  const tsMs = ts === undefined || ts === null ? receivedMs : parseTimestamp(ts);
  if (Number.isNaN(tsMs)) throw new MalformedPayload(timestampProblem(ts));
  if (unit !== undefined && unit !== null && (typeof unit !== 'string' || !isKnownUnit(unit)))
    throw new MalformedPayload(`unit must be one of ${KNOWN_UNITS.join(', ')}`);
  if (kind !== undefined && kind !== null && !(SERIES_KINDS as readonly unknown[]).includes(kind))
    throw new MalformedPayload(`kind must be one of ${SERIES_KINDS.join(', ')}`);
  const slash = series.lastIndexOf('/');
  return {
    device: series.slice(0, slash),
    quantity: series.slice(slash + 1),
    ts: tsMs,
    value,
    unit: (unit as string | undefined) ?? null,
    // energy totals are counters unless told otherwise: their increase is the energy used
    kind: (kind as SeriesKind | undefined) ?? (ENERGY_UNITS.has(unit as string) ? 'counter' : 'gauge'),
    sensorType: SENSOR_TYPE_BY_UNIT[unit as string] ?? 'generic',
  };
}

/**
 * Wattline's own format: `{"series":"meter1/power","value":230.5,"ts":"2026-03-29T01:00:00Z","unit":"W"}`
 * or an array of such objects, as `/ingest` takes them (`ts` epoch s/ms/us/ns or ISO 8601; without
 * it, the time the message arrived — then a message the broker delivers again is stored again at a
 * new time, so send `ts`). The series key is the payload's own, not under the subscription's
 * prefix: the device is the key without its last segment, the quantity its last segment.
 */
export const jsonFormat: PayloadFormat = {
  name: 'json',
  parse(payload, ctx) {
    const body = parseJson(payload, 'the payload');
    const items = Array.isArray(body) ? body : [body];
    return { readings: items.map((item) => reading(item, ctx.receivedMs)) };
  },
};
