import { MalformedPayload } from '../format.js';
import { isObject, PollReadings, unixSeconds } from './quantity.js';

/** `em:N` (three-phase) and `em1:N` (one channel) fields by their name's end. */
const EM_UNITS: [suffix: string, unit: string | null][] = [
  ['act_power', 'W'],
  ['aprt_power', 'VA'],
  ['voltage', 'V'],
  ['current', 'A'],
  ['pf', null],
  ['freq', 'Hz'],
];

/**
 * A Shelly Gen2+ `GET /rpc/Shelly.GetStatus`: each `switch:N`, `pm1:N` (`apower` W, `voltage`,
 * `current`, `pf`, `freq`, `aenergy.total` and `ret_aenergy.total` Wh counters), `em:N`/`em1:N`
 * (per-phase `a_act_power`…, `total_act_power`) and `emdata:N`/`em1data:N` (`*_total_act_energy`,
 * `*_total_act_ret_energy`, `total_act`, `total_act_ret` Wh counters). Quantities are
 * `<component>/<id>/<field>` (`switch/0/power`, `em/0/a_act_power`, `emdata/0/total_act`). Readings
 * are at `sys.unixtime` (UTC); at the poll's time when the device has no clock yet.
 */
export function readShellyGen2Status(device: string, status: unknown, polledMs: number): PollReadings {
  if (!isObject(status)) throw new MalformedPayload('a Shelly Gen2 Shelly.GetStatus answer is a JSON object');
  const sys = isObject(status.sys) ? status.sys : {};
  const out = new PollReadings(device, unixSeconds(sys.unixtime) ?? polledMs);
  for (const [key, c] of Object.entries(status)) {
    const m = /^(switch|pm1|em|em1|emdata|em1data):(\d+)$/.exec(key);
    if (!m || !isObject(c)) continue;
    const [, component, id] = m;
    const q = (field: string) => `${component}/${id}/${field}`;
    if (component === 'switch' || component === 'pm1') {
      out.add(q('power'), c.apower, 'W');
      out.add(q('voltage'), c.voltage, 'V');
      out.add(q('current'), c.current, 'A');
      out.add(q('pf'), c.pf, null);
      out.add(q('freq'), c.freq, 'Hz');
      if (isObject(c.aenergy)) out.add(q('energy'), c.aenergy.total, 'Wh');
      if (isObject(c.ret_aenergy)) out.add(q('returned_energy'), c.ret_aenergy.total, 'Wh');
    } else if (component === 'em' || component === 'em1') {
      for (const [field, value] of Object.entries(c)) {
        const unit = EM_UNITS.find(([suffix]) => field === suffix || field.endsWith(`_${suffix}`));
        if (unit) out.add(q(field), value, unit[1]);
      }
    } else {
      for (const [field, value] of Object.entries(c))
        if (/(^|_)total_act(_ret)?(_energy)?$/.test(field)) out.add(q(field), value, 'Wh');
    }
  }
  return out;
}
