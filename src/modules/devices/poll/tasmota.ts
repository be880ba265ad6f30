import { MalformedPayload } from '../format.js';
import { isObject, localTime, PollReadings, unixSeconds } from './quantity.js';

/**
 * `ENERGY` fields read, with their quantity and unit. `Total` (kWh since `TotalStartTime`) is the
 * counter; `Today`, `Yesterday` and `Period` are parts of it and are left out, so no energy is
 * counted twice.
 */
const ENERGY_FIELDS: [field: string, quantity: string, unit: string | null][] = [
  ['Power', 'power', 'W'],
  ['ApparentPower', 'apparent_power', 'VA'],
  ['ReactivePower', 'reactive_power', 'var'],
  ['Voltage', 'voltage', 'V'],
  ['Current', 'current', 'A'],
  ['Factor', 'factor', null],
  ['Frequency', 'frequency', 'Hz'],
  ['Total', 'total', 'kWh'],
];

/**
 * A Tasmota `GET /cm?cmnd=Status%2010` answer: `StatusSNS.ENERGY` as the `tele/<topic>/SENSOR`
 * telemetry has it. A multi-phase meter's arrays give one series per phase (`power_l1`, `power_l2`…).
 * `Time` is the device's local time without an offset (unless it carries one): read in `zone`;
 * an `Epoch` field (Unix seconds) wins when present.
 */
export function readTasmotaStatus(device: string, answer: unknown, zone: string, polledMs: number): PollReadings {
  const sns = isObject(answer) && isObject(answer.StatusSNS) ? answer.StatusSNS : undefined;
  if (!sns) throw new MalformedPayload('a Tasmota Status 10 answer has a StatusSNS object');
  const out = new PollReadings(device, unixSeconds(sns.Epoch) ?? localTime(sns.Time, zone) ?? polledMs);
  const energy = isObject(sns.ENERGY) ? sns.ENERGY : {};
  for (const [field, quantity, unit] of ENERGY_FIELDS) {
    const value = energy[field];
    if (!Array.isArray(value)) out.add(quantity, value, unit);
    else for (const [i, v] of value.entries()) out.add(`${quantity}_l${i + 1}`, v, unit);
  }
  return out;
}
