import { MalformedPayload } from '../format.js';
import { isObject, PollReadings, unixSeconds } from './quantity.js';

/**
 * A Shelly Gen1 `GET /status`: `meters[i]` (plugs and relays: `power` W, `total` in **watt-minutes**,
 * stored as Wh) and `emeters[i]` (Shelly EM, 3EM: `power`, `reactive`, `pf`, `voltage`, `current`,
 * `total` and `total_returned` Wh counters, which restart at 0 when the device reboots). Quantities
 * are named as the device's MQTT topics name them (`relay/0/power`, `emeter/1/total`). Readings are
 * at `unixtime` (UTC), never `meters[].timestamp`, which is shifted by the device's zone; at the
 * poll's time (`polledMs`) when the device has no clock yet.
 */
export function readShellyGen1Status(device: string, status: unknown, polledMs: number): PollReadings {
  if (!isObject(status)) throw new MalformedPayload('a Shelly Gen1 /status answer is a JSON object');
  const out = new PollReadings(device, unixSeconds(status.unixtime) ?? polledMs);
  const meters = Array.isArray(status.meters) ? status.meters : [];
  meters.forEach((m, i) => {
    if (!isObject(m) || m.is_valid === false) return;
    out.add(`relay/${i}/power`, m.power, 'W');
    if (typeof m.total === 'number') out.add(`relay/${i}/energy`, m.total / 60, 'Wh');
  });
  const emeters = Array.isArray(status.emeters) ? status.emeters : [];
  emeters.forEach((m, i) => {
    if (!isObject(m)) return;
    // an invalid measurement's instantaneous values are not to be trusted; its counters are
    if (m.is_valid !== false) {
      out.add(`emeter/${i}/power`, m.power, 'W');
      out.add(`emeter/${i}/reactive_power`, m.reactive, 'var');
      out.add(`emeter/${i}/pf`, m.pf, null);
      out.add(`emeter/${i}/voltage`, m.voltage, 'V');
      out.add(`emeter/${i}/current`, m.current, 'A');
    }
    out.add(`emeter/${i}/total`, m.total, 'Wh');
    out.add(`emeter/${i}/total_returned`, m.total_returned, 'Wh');
  });
  return out;
}
