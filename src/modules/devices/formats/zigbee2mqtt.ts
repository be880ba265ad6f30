import {
  type DeviceReading,
  MalformedPayload,
  type MessageContext,
  type PayloadFormat,
  wildcardLevels,
} from '../format.js';
import { expectObject, parseJson, Q, type Quantity, reading } from './common.js';

// Zigbee2MQTT's exposes (zigbee-herdsman-converters): `energy` and `produced_energy` are kWh totals;
// fields not listed here (state, linkquality, battery…) are not read
const FIELDS: Record<string, Quantity> = {
  power: Q.power,
  energy: Q.energyKwh,
  produced_energy: Q.energyKwhPart,
  voltage: Q.voltage,
  current: Q.current,
  temperature: { unit: '°C', kind: 'gauge', sensorType: 'temperature' },
  humidity: { unit: '%', kind: 'gauge', sensorType: 'humidity' },
};

/** Topics under a device that carry no state: commands sent to it, and the bridge's own. */
const IGNORED_LAST_LEVELS = new Set(['set', 'get']);

/**
 * `zigbee2mqtt/<friendly name>` JSON state (the friendly name may hold `/`: the device is every level
 * the subscription's wildcards matched). Payloads carry no time, so readings take the receive time.
 * With `cache_state` on (Zigbee2MQTT's default) every message repeats the last known values: a
 * counter equal to the device's last one says nothing new and is dropped. `…/availability` says
 * `online`/`offline`, as plain text (legacy) or `{"state":"online"}`; `bridge/…`, `…/set` and
 * `…/get` are not device state.
 */
export const zigbee2mqtt: PayloadFormat = {
  name: 'zigbee2mqtt',
  parse(payload, ctx) {
    const name = wildcardLevels(ctx.filter, ctx.topic);
    if (!name) return { readings: [] };
    const levels = name.split('/');
    const last = levels[levels.length - 1];
    if (levels[0] === 'bridge' || IGNORED_LAST_LEVELS.has(last)) return { readings: [] };
    if (last === 'availability' && levels.length > 1) {
      const device = levels.slice(0, -1).join('/');
      return { readings: [], availability: { device, online: availabilityOf(payload), ts: ctx.receivedMs } };
    }
    return {
      readings: readingsOf(name, expectObject(parseJson(payload, 'the device state'), 'the device state'), ctx),
    };
  },
};

function readingsOf(device: string, state: Record<string, unknown>, ctx: MessageContext): DeviceReading[] {
  const readings: DeviceReading[] = [];
  for (const [quantity, field] of Object.entries(FIELDS)) {
    const value = state[quantity];
    // a field a converter has not filled yet is null: unknown, never 0
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    // a total dropped here is never lost energy: the next different total carries the increase
    if (field.kind === 'counter') {
      const key = `zigbee2mqtt/${device}/${quantity}`;
      if (ctx.state.get(key) === value) continue;
      ctx.state.set(key, value);
    }
    readings.push(reading(device, quantity, ctx.receivedMs, value, field));
  }
  return readings;
}

function availabilityOf(payload: Buffer): boolean {
  const text = payload.toString('utf8').trim();
  const state = text.startsWith('{') ? expectObject(parseJson(payload, 'availability'), 'availability').state : text;
  if (state === 'online') return true;
  if (state === 'offline') return false;
  throw new MalformedPayload(`expected online, offline or {"state":"online"|"offline"} (got ${text.slice(0, 40)})`);
}
