import { IANAZone } from 'luxon';
import {
  type DeviceReading,
  MalformedPayload,
  type MessageContext,
  type Parsed,
  type PayloadFormat,
} from '../format.js';
import {
  deviceOf,
  describe,
  expectEpoch,
  expectNumber,
  expectObject,
  parseJson,
  Q,
  type Quantity,
  reading,
} from './common.js';

/**
 * Tasmota (https://tasmota.github.io/docs/): `<FullTopic>SENSOR` telemetry with its `ENERGY` object,
 * `<FullTopic>LWT` Online/Offline, and `STATUS10` (`{"StatusSNS":{…}}`, the answer to `Status 10`,
 * which the poller reads from the device's web API with status10Readings: the same quantities).
 * The device is whatever the subscription's wildcards matched (deviceOf), so any FullTopic works.
 *
 * ENERGY fields read, quantity names, units and kinds: the table in ../README.md (any field may be
 * an array: one value per phase or channel, `<quantity>_l1`…, and for additive ones their sum).
 * Left out on purpose: `Period` (Wh since the last telemetry: the same energy as Total's increase,
 * so storing both would count it twice), `Yesterday` (yesterday's Today), `TotalStartTime` (a
 * Total reset shows as the counter dropping, which the energy functions read as a reset).
 */
const ENERGY_FIELDS: Record<string, { quantity: string; whole: Quantity; part: Quantity; additive: boolean }> = {
  Power: { quantity: 'power', whole: Q.power, part: Q.powerPart, additive: true },
  ApparentPower: { quantity: 'apparent_power', whole: Q.apparentPower, part: Q.apparentPower, additive: true },
  ReactivePower: { quantity: 'reactive_power', whole: Q.reactivePower, part: Q.reactivePower, additive: true },
  Voltage: { quantity: 'voltage', whole: Q.voltage, part: Q.voltage, additive: false },
  Current: { quantity: 'current', whole: Q.current, part: Q.current, additive: false },
  Factor: { quantity: 'power_factor', whole: Q.powerFactor, part: Q.powerFactor, additive: false },
  Frequency: { quantity: 'frequency', whole: Q.frequency, part: Q.frequency, additive: false },
  Total: { quantity: 'energy', whole: Q.energyKwh, part: Q.energyKwhPart, additive: true },
  Today: { quantity: 'energy_today', whole: Q.energyKwhPart, part: Q.energyKwhPart, additive: true },
  ExportActive: { quantity: 'energy_export', whole: Q.energyKwhPart, part: Q.energyKwhPart, additive: true },
};

export const tasmota: PayloadFormat = {
  name: 'tasmota',
  parse(payload: Buffer, ctx: MessageContext): Parsed {
    const type = ctx.topic.split('/').at(-1) ?? '';
    if (type === 'LWT') return { readings: [], availability: lwt(payload, ctx) };
    if (type === 'SENSOR') {
      const message = expectObject(parseJson(payload, 'SENSOR'), 'SENSOR');
      return { readings: energyReadings(deviceOf(ctx, 1), message, ctx.zone, ctx.receivedMs) };
    }
    if (type === 'STATUS10')
      return { readings: status10Readings(deviceOf(ctx, 1), parseJson(payload, 'STATUS10'), ctx.zone, ctx.receivedMs) };
    return { readings: [] }; // STATE, INFO1, RESULT…: no measurement
  },
};

/** `Online` / `Offline`, the device's last will (Tasmota's LWT, retained by the broker). */
function lwt(payload: Buffer, ctx: MessageContext) {
  const text = payload.toString('utf8').trim();
  if (text !== 'Online' && text !== 'Offline')
    throw new MalformedPayload(`LWT must be Online or Offline (got ${JSON.stringify(text.slice(0, 40))})`);
  return { device: deviceOf(ctx, 1), online: text === 'Online', ts: ctx.receivedMs };
}

/**
 * The answer to `Status 10` (`{"StatusSNS":{…}}`), as `stat/<topic>/STATUS10` or the device's web
 * API (`GET /cm?cmnd=Status%2010`, the poller) give it: `StatusSNS` is a SENSOR telemetry message.
 */
export function status10Readings(device: string, answer: unknown, zone: string, receivedMs: number): DeviceReading[] {
  const status = expectObject(answer, 'STATUS10');
  return energyReadings(device, expectObject(status.StatusSNS, 'STATUS10 StatusSNS'), zone, receivedMs);
}

/**
 * The ENERGY object's readings of a SENSOR message (or a Status 10 `StatusSNS`), at the message's
 * time (messageTime); a message without one (a temperature probe) has none.
 */
export function energyReadings(
  device: string,
  message: Record<string, unknown>,
  zone: string,
  receivedMs: number,
): DeviceReading[] {
  if (message.ENERGY === undefined) return [];
  const energy = expectObject(message.ENERGY, 'ENERGY');
  const ts = messageTime(message, zone, receivedMs);
  const readings: DeviceReading[] = [];
  for (const [field, { quantity, whole, part, additive }] of Object.entries(ENERGY_FIELDS)) {
    const value = energy[field];
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) {
      readings.push(reading(device, quantity, ts, expectNumber(value, `ENERGY.${field}`), whole));
      continue;
    }
    const phases = value.map((v, i) => expectNumber(v, `ENERGY.${field}[${i}]`));
    phases.forEach((v, i) => {
      readings.push(reading(device, `${quantity}_l${i + 1}`, ts, v, part));
    });
    // the device's own total of an additive quantity, the one a room adds up
    const sum = phases.reduce((a, b) => a + b, 0);
    if (additive && phases.length) readings.push(reading(device, quantity, ts, sum, whole));
  }
  return readings;
}

/**
 * When the device measured: `Epoch` (Unix seconds, `Time 2|3`) if present, else `Time`: ISO with an
 * offset when SetOption52 is on, otherwise the device's local time, read in the subscription's
 * zone; no time at all: when the message arrived (or was polled).
 */
export function messageTime(message: Record<string, unknown>, zone: string, receivedMs: number): number {
  if (message.Epoch !== undefined) {
    const epoch = expectNumber(message.Epoch, 'Epoch');
    return expectEpoch(epoch, 'Epoch', epoch > 1e11 ? 'ms' : 's'); // `Time 4` gives milliseconds
  }
  if (message.Time === undefined) return receivedMs;
  if (typeof message.Time !== 'string')
    throw new MalformedPayload(`Time must be a string (got ${describe(message.Time)})`);
  return parseDeviceTime(message.Time, zone, receivedMs);
}

const DEVICE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A device time: with an offset (or Z) as it says; without one, local time in `zone`. A local time
 * the clocks pass twice (01:30 on the day they go back) is the one of the two nearer `nearMs`, the
 * message's arrival: a device reports what it just measured (equally near: the earlier). A local
 * time the clocks skip (01:30 on the day they go forward) is read with the offset before the jump,
 * as the device's clock, not yet corrected, would have meant it.
 */
export function parseDeviceTime(text: string, zone: string, nearMs: number): number {
  const m = DEVICE_TIME.exec(text);
  if (!m)
    throw new MalformedPayload(`Time must be an ISO date-time such as 2024-10-27T01:30:00 (got ${describe(text)})`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
    throw new MalformedPayload(`Time is not a real date-time (got ${describe(text)})`);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (m[8]) {
    if (m[8] === 'Z') return asUtc;
    const sign = m[8][0] === '-' ? -1 : 1;
    const digits = m[8].slice(1).replace(':', '');
    return asUtc - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const tz = IANAZone.create(zone);
  if (!tz.isValid) throw new MalformedPayload(`time zone ${zone} is not an IANA zone`);
  // the zone's offsets around that wall time: one fits in an ordinary hour, two in a repeated one
  const day = 86_400_000;
  const offsets = new Set([tz.offset(asUtc - day), tz.offset(asUtc), tz.offset(asUtc + day)]);
  const fits = [...offsets].map((o) => asUtc - o * 60_000).filter((t) => tz.offset(t) * 60_000 === asUtc - t);
  fits.sort((a, b) => Math.abs(a - nearMs) - Math.abs(b - nearMs) || a - b);
  return fits[0] ?? asUtc - tz.offset(asUtc - day) * 60_000;
}
