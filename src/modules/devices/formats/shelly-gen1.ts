import { MalformedPayload, type MessageContext, type Parsed, type PayloadFormat } from '../format.js';
import { deviceOf, plainNumber, Q, type Quantity, reading } from './common.js';

/**
 * Shelly Gen1 (https://shelly-api-docs.shelly.cloud/gen1/#mqtt-support): one plain value per topic,
 * `shellies/<id>/…` by default (the prefix is configurable: the device is what the subscription's
 * wildcards matched before the topics below). Gen1 messages carry no time: the arrival time is
 * the reading's.
 * | topic after the device | quantity | unit, kind |
 * | `relay/<i>/power` (also `roller/<i>`, `light/<i>`) | relay<i>/power | W gauge |
 * | `relay/<i>/energy` | relay<i>/energy | **watt-minutes** ÷ 60 → Wh counter (resets on reboot) |
 * | `emeter/<i>/power`, `reactive_power`, `voltage`, `current`, `pf` | emeter<i>/… | W, var, V, A, – gauges |
 * | `emeter/<i>/total`, `total_returned` | emeter<i>/energy, energy_returned | Wh counters |
 * | `online` | availability | `true` / `false` |
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
      return field === 'power'
        ? { readings: [reading(device(), `${kind}${index}/power`, ctx.receivedMs, value, Q.power)] }
        : {
            readings: [
              reading(device(), `${kind}${index}/energy`, ctx.receivedMs, value / WATT_MINUTES_PER_WH, Q.energyWh),
            ],
          };
    }
    if (kind === 'emeter' && Object.hasOwn(EMETER, field)) {
      const { quantity, q } = EMETER[field];
      return {
        readings: [reading(device(), `emeter${index}/${quantity}`, ctx.receivedMs, plainNumber(payload, ctx.topic), q)],
      };
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
