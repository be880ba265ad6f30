import { MalformedPayload } from '../format.js';
import { isObject } from '../formats/common.js';
import { localTime, PollReadings } from './quantity.js';

/** A field name's ending says its unit: `power_w`, `energy_kwh`, `temp_c`… */
const SUFFIX_UNITS: Record<string, string> = {
  w: 'W',
  kw: 'kW',
  wh: 'Wh',
  kwh: 'kWh',
  v: 'V',
  a: 'A',
  va: 'VA',
  var: 'var',
  hz: 'Hz',
  c: '°C',
  pct: '%',
};

/** `ts`, `time` or `timestamp` as epoch ms: Unix seconds or ms, or ISO 8601 (local in `zone` without an offset). */
function timeOf(body: Record<string, unknown>, zone: string): number | undefined {
  const t = body.ts ?? body.time ?? body.timestamp;
  if (typeof t === 'number' && t > 0) return t < 1e11 ? t * 1000 : t; // seconds until the year 5138
  return localTime(t, zone);
}

/**
 * A generic HTTP device (`kind: http-json`): its URL answers a JSON object whose number fields are
 * quantities, named by the field; the field's ending gives the unit (`_w` W, `_kw` kW, `_wh` Wh and
 * `_kwh` kWh energy counters, `_v`, `_a`, `_va`, `_var`, `_hz`, `_c` °C, `_pct` %; anything else is
 * a unitless gauge); `{"power_w": 120, "energy_kwh": 4512.3, "ts": 1717243200}`. Objects nest one
 * level (`{"l1": {"power_w": 40}}` is `l1/power_w`); other fields are ignored. `ts` (or `time`,
 * `timestamp`) in Unix seconds or ms, or ISO 8601, is the readings' time; the poll's time otherwise.
 */
export function readHttpJson(device: string, body: unknown, zone: string, polledMs: number): PollReadings {
  if (!isObject(body)) throw new MalformedPayload('an http-json device answers a JSON object of numbers');
  const out = new PollReadings(device, timeOf(body, zone) ?? polledMs);
  const add = (quantity: string, value: unknown) => {
    const suffix = /_([a-z]+)$/.exec(quantity.toLowerCase())?.[1];
    out.add(quantity, value, (suffix && SUFFIX_UNITS[suffix]) || null);
  };
  for (const [field, value] of Object.entries(body)) {
    if (['ts', 'time', 'timestamp'].includes(field)) continue;
    if (isObject(value)) for (const [inner, v] of Object.entries(value)) add(`${field}/${inner}`, v);
    else add(field, value);
  }
  return out;
}
