import type { DeviceReading } from '../format.js';
import { channelReading, emeterReading } from '../formats/shelly-gen1.js';
import { expectObject, isObject, optionalNumber } from '../formats/common.js';
import { unixSeconds } from './quantity.js';

/** `/status` emeter fields by the name their MQTT topic gives them (the one the format maps). */
const EMETER_TOPIC_FIELDS: Record<string, string> = {
  power: 'power',
  reactive: 'reactive_power',
  pf: 'pf',
  voltage: 'voltage',
  current: 'current',
  total: 'total',
  total_returned: 'total_returned',
};
/** Counters stay good when a measurement is invalid; the instantaneous values do not. */
const EMETER_COUNTERS = new Set(['total', 'total_returned']);

/**
 * A Shelly Gen1 `GET /status`, read into the quantities of the device's MQTT topics (formats/shelly-gen1.ts):
 * `meters[i]` is the meter of output `i` (`relays[i]`, or `lights[i]` on a dimmer or RGBW): `power`
 * W and `total` **watt-minutes** become `relay<i>/power` and the Wh counter `relay<i>/energy`;
 * `emeters[i]` (Shelly EM, 3EM) become `emeter<i>/power`, `reactive_power`, `power_factor`,
 * `voltage`, `current` and the Wh counters `emeter<i>/energy`, `energy_returned` (which restart at 0
 * when the device reboots). Readings are at `unixtime` (UTC), never `meters[].timestamp`, which is
 * shifted by the device's zone; at the poll's time (`polledMs`) when the device has no clock yet.
 */
export function readShellyGen1Status(device: string, answer: unknown, polledMs: number): DeviceReading[] {
  const status = expectObject(answer, 'a Shelly Gen1 /status answer');
  const ts = unixSeconds(status.unixtime) ?? polledMs;
  const channel = Array.isArray(status.lights) && !Array.isArray(status.relays) ? 'light' : 'relay';
  const readings: DeviceReading[] = [];
  const meters = Array.isArray(status.meters) ? status.meters : [];
  meters.forEach((m, i) => {
    if (!isObject(m) || m.is_valid === false) return;
    const power = optionalNumber(m.power, `meters[${i}].power`);
    const total = optionalNumber(m.total, `meters[${i}].total`);
    if (power !== undefined) readings.push(channelReading(device, `${channel}${i}`, 'power', power, ts));
    if (total !== undefined) readings.push(channelReading(device, `${channel}${i}`, 'energy', total, ts));
  });
  const emeters = Array.isArray(status.emeters) ? status.emeters : [];
  emeters.forEach((m, i) => {
    if (!isObject(m)) return;
    for (const [field, topicField] of Object.entries(EMETER_TOPIC_FIELDS)) {
      if (m.is_valid === false && !EMETER_COUNTERS.has(field)) continue;
      const value = optionalNumber(m[field], `emeters[${i}].${field}`);
      const r = value === undefined ? undefined : emeterReading(device, i, topicField, value, ts);
      if (r) readings.push(r);
    }
  });
  return readings;
}
