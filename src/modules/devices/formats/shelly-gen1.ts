import {
  type DeviceReading,
  MalformedPayload,
  type MessageContext,
  type Parsed,
  type PayloadFormat,
} from '../format.js';
import { deviceOf, plainNumber, Q, type Quantity, reading } from './common.js';

/**
 * Shelly Gen1 (https://shelly-api-docs.shelly.cloud/gen1/#mqtt-support): one plain value per topic,
 * `shellies/<id>/…` by default (the prefix is configurable: the device is what the subscription's
 * wildcards matched before `relay/<i>/power` and the like). Gen1 messages carry no time: the arrival time is
 * the reading's. The poller's `GET /status` (`meters[i]`, `emeters[i]`) gives the same quantities
 * through channelReading and emeterReading.
 * Topics and the quantities they give: the table in ../README.md; `online` is the availability.
 * `emeter/<i>/energy` and `returned_energy` (watt-minutes since the last report) are left out:
 * they are the same energy as `total`'s increase, which would count it twice.
 */
const EMETER: Record<string, { quantity: string; q: Quantity }> = {
  power: { quantity: 'power', q: Q.power },
  reactive_power: { quantity: 'reactive_power', q: Q.reactivePower },
  voltage: { quantity: 'voltage', q: Q.voltage },
  current: { quantity: 'current', q: Q.current },
  pf: { quantity: 'power_factor', q: Q.powerFactor },
  total: { quantity: 'energy', q: Q.energyWh },
  total_returned: { quantity: 'energy_returned', q: Q.energyWhPart },
};

const WATT_MINUTES_PER_WH = 60;

/** Output channels whose meter reports `power` and `energy` (the topic's level, the poller's `/status` array). */
export type Channel = 'relay' | 'roller' | 'light';

/**
 * A channel's meter value as `<channel><i>/power` (W) or `<channel><i>/energy` (the device's
 * watt-minutes as a Wh counter), from an MQTT topic or a polled `/status`'s `meters[i]`.
 */
export function channelReading(
  device: string,
  channel: `${Channel}${number}`,
  field: 'power' | 'energy',
  value: number,
  ts: number,
): DeviceReading {
  return field === 'power'
    ? reading(device, `${channel}/power`, ts, value, Q.power)
    : reading(device, `${channel}/energy`, ts, value / WATT_MINUTES_PER_WH, Q.energyWh);
}

/**
 * An emeter's value by its MQTT topic's field name (`power`, `pf`, `total`…) as `emeter<i>/<quantity>`;
 * undefined for a field that is not stored.
 */
export function emeterReading(
  device: string,
  index: number | string,
  field: string,
  value: number,
  ts: number,
): DeviceReading | undefined {
  if (!Object.hasOwn(EMETER, field)) return undefined;
  const { quantity, q } = EMETER[field];
  return reading(device, `emeter${index}/${quantity}`, ts, value, q);
}

export const shellyGen1: PayloadFormat = {
  name: 'shelly-gen1',
  parse(payload: Buffer, ctx: MessageContext): Parsed {
    const levels = ctx.topic.split('/');
    const [kind, index, field] = levels.slice(-3);
    if (levels.at(-1) === 'online') return { readings: [], availability: online(payload, ctx) };
    if (!/^\d+$/.test(index ?? '')) return { readings: [] }; // announce, info, input/0, temperature…: no energy
    const device = () => deviceOf(ctx, 3);
    if ((kind === 'relay' || kind === 'roller' || kind === 'light') && (field === 'power' || field === 'energy')) {
      const value = plainNumber(payload, ctx.topic);
      return { readings: [channelReading(device(), `${kind}${Number(index)}`, field, value, ctx.receivedMs)] };
    }
    if (kind === 'emeter' && Object.hasOwn(EMETER, field)) {
      const r = emeterReading(device(), index, field, plainNumber(payload, ctx.topic), ctx.receivedMs);
      return { readings: r ? [r] : [] };
    }
    return { readings: [] };
  },
};

function online(payload: Buffer, ctx: MessageContext) {
  const text = payload.toString('utf8').trim();
  if (text !== 'true' && text !== 'false')
    throw new MalformedPayload(`${ctx.topic} must be true or false (got ${JSON.stringify(text.slice(0, 40))})`);
  return { device: deviceOf(ctx, 1), online: text === 'true', ts: ctx.receivedMs };
}
