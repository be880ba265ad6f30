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
  isObject,
  parseJson,
  Q,
  type Quantity,
  reading,
} from './common.js';

/**
 * Shelly Gen2+ (https://shelly-api-docs.shelly.cloud/gen2/): `<prefix>/events/rpc` frames
 * `{"src","dst","method","params"}` and, with status notifications on, `<prefix>/status/<component:id>`
 * (one component's whole status). The device is what the subscription's wildcards matched before
 * those levels (`+/events/rpc`: the prefix, by default the device id).
 *
 * Each device's known status is kept in `ctx.state`: `NotifyFullStatus` replaces it, `NotifyStatus`
 * (a partial delta) is deep-merged into it, a `status/<component>` message replaces that component.
 * The poller reads `Shelly.GetStatus` (the same components) with componentReadings: the same quantities.
 * Readings come only from the fields present in the message itself: a field a delta leaves out is
 * unknown at that time, never 0, and an old counter value is never restated at a new time.
 * Times: `params.ts` (UTC seconds); without it, the arrival time.
 *
 * Components, fields and the quantities they give: the table in ../README.md.
 *
 * `aenergy.by_minute` (mWh in each of the last three whole minutes, from `minute_ts`) is not
 * stored: `aenergy.total` in the same object is the same energy as a Wh counter, whose increase the
 * energy functions split into buckets; storing both would count it twice, and the counter survives
 * a missed message where minute slots would leave a gap.
 */

type Fields = Record<string, { quantity: string; q: Quantity }>;

const METER: Fields = {
  apower: { quantity: 'power', q: Q.power },
  voltage: { quantity: 'voltage', q: Q.voltage },
  current: { quantity: 'current', q: Q.current },
  freq: { quantity: 'frequency', q: Q.frequency },
  pf: { quantity: 'power_factor', q: Q.powerFactor },
  'aenergy.total': { quantity: 'energy', q: Q.energyWh },
  'ret_aenergy.total': { quantity: 'energy_returned', q: Q.energyWhPart },
};

const phases = (field: (p: string) => string, quantity: string, q: Quantity): Fields =>
  Object.fromEntries(['a', 'b', 'c'].map((p, i) => [field(p), { quantity: `${quantity}_l${i + 1}`, q }]));

const EM: Fields = {
  ...phases((p) => `${p}_act_power`, 'power', Q.powerPart),
  ...phases((p) => `${p}_aprt_power`, 'apparent_power', Q.apparentPower),
  ...phases((p) => `${p}_voltage`, 'voltage', Q.voltage),
  ...phases((p) => `${p}_current`, 'current', Q.current),
  ...phases((p) => `${p}_pf`, 'power_factor', Q.powerFactor),
  ...phases((p) => `${p}_freq`, 'frequency', Q.frequency),
  total_act_power: { quantity: 'power', q: Q.power },
  total_aprt_power: { quantity: 'apparent_power', q: Q.apparentPower },
  n_current: { quantity: 'current_n', q: Q.current },
};

const EMDATA: Fields = {
  ...phases((p) => `${p}_total_act_energy`, 'energy', Q.energyWhPart),
  ...phases((p) => `${p}_total_act_ret_energy`, 'energy_returned', Q.energyWhPart),
  total_act: { quantity: 'energy', q: Q.energyWh },
  total_act_ret: { quantity: 'energy_returned', q: Q.energyWhPart },
};

const EM1: Fields = {
  act_power: { quantity: 'power', q: Q.power },
  aprt_power: { quantity: 'apparent_power', q: Q.apparentPower },
  voltage: { quantity: 'voltage', q: Q.voltage },
  current: { quantity: 'current', q: Q.current },
  pf: { quantity: 'power_factor', q: Q.powerFactor },
  freq: { quantity: 'frequency', q: Q.frequency },
};

const EM1DATA: Fields = {
  total_act_energy: { quantity: 'energy', q: Q.energyWh },
  total_act_ret_energy: { quantity: 'energy_returned', q: Q.energyWhPart },
};

/** Component type → its fields and the series group its readings go under (emdata:0 with em:0). */
const COMPONENTS: Record<string, { fields: Fields; group: (id: string) => string }> = {
  switch: { fields: METER, group: (id) => `switch${id}` },
  cover: { fields: METER, group: (id) => `cover${id}` },
  pm1: { fields: METER, group: (id) => `pm1_${id}` },
  em: { fields: EM, group: (id) => `em${id}` },
  emdata: { fields: EMDATA, group: (id) => `em${id}` },
  em1: { fields: EM1, group: (id) => `em1_${id}` },
  em1data: { fields: EM1DATA, group: (id) => `em1_${id}` },
};

type Status = Record<string, unknown>;
const stateKey = (device: string) => `shelly-gen2/${device}`;

/** What is known of a device's status now (the full status with every delta merged in). */
export function knownStatus(state: Map<string, unknown>, device: string): Status | undefined {
  return state.get(stateKey(device)) as Status | undefined;
}

export const shellyGen2: PayloadFormat = {
  name: 'shelly-gen2',
  parse(payload: Buffer, ctx: MessageContext): Parsed {
    const [kind, last] = ctx.topic.split('/').slice(-2);
    if (kind === 'events' && last === 'rpc') return rpcFrame(payload, ctx);
    if (kind === 'status' && last.includes(':')) return componentStatus(last, payload, ctx);
    if (last === 'online') return { readings: [], availability: online(payload, ctx) };
    return { readings: [] };
  },
};

function rpcFrame(payload: Buffer, ctx: MessageContext): Parsed {
  const frame = expectObject(parseJson(payload, 'events/rpc frame'), 'events/rpc frame');
  if (typeof frame.method !== 'string')
    throw new MalformedPayload(`events/rpc frame has no method (got ${describe(frame.method)})`);
  if (frame.method !== 'NotifyStatus' && frame.method !== 'NotifyFullStatus') return { readings: [] }; // NotifyEvent…
  const { ts, ...components } = expectObject(frame.params, `${frame.method} params`);
  const tsMs = ts === undefined ? ctx.receivedMs : expectEpoch(ts, 'params.ts');
  const device = deviceOf(ctx, 2);
  const key = stateKey(device);
  const known = frame.method === 'NotifyFullStatus' ? {} : ((ctx.state.get(key) as Status | undefined) ?? {});
  ctx.state.set(key, deepMerge(known, components));
  return { readings: componentReadings(device, components, tsMs) };
}

/** `<prefix>/status/switch:0`: that component's whole status, now. */
function componentStatus(component: string, payload: Buffer, ctx: MessageContext): Parsed {
  const status = expectObject(parseJson(payload, component), component);
  const device = deviceOf(ctx, 2);
  const key = stateKey(device);
  ctx.state.set(key, { ...((ctx.state.get(key) as Status | undefined) ?? {}), [component]: structuredClone(status) });
  return { readings: componentReadings(device, { [component]: status }, ctx.receivedMs) };
}

function online(payload: Buffer, ctx: MessageContext) {
  const text = payload.toString('utf8').trim();
  if (text !== 'true' && text !== 'false')
    throw new MalformedPayload(`${ctx.topic} must be true or false (got ${JSON.stringify(text.slice(0, 40))})`);
  return { device: deviceOf(ctx, 1), online: text === 'true', ts: ctx.receivedMs };
}

/**
 * The readings of the fields present in these components (a null field is unknown: none), keyed
 * by component name as `NotifyFullStatus` params and the poller's `Shelly.GetStatus` result both
 * have them (`switch:0`, `em:0`…; others such as `sys` and `wifi` are skipped).
 */
export function componentReadings(device: string, components: Status, ts: number): DeviceReading[] {
  const readings: DeviceReading[] = [];
  for (const [name, status] of Object.entries(components)) {
    const [type, id] = name.split(':');
    const known = COMPONENTS[type];
    if (!known || id === undefined || !isObject(status)) continue; // sys, wifi, input:0…
    const group = known.group(id);
    for (const [path, { quantity, q }] of Object.entries(known.fields)) {
      const value = at(status, path);
      if (value === undefined || value === null) continue;
      readings.push(reading(device, `${group}/${quantity}`, ts, expectNumber(value, `${name}.${path}`), q));
    }
  }
  return readings;
}

/** `aenergy.total` of a component's status. */
function at(status: Status, path: string): unknown {
  let value: unknown = status;
  for (const step of path.split('.')) value = isObject(value) ? value[step] : undefined;
  return value;
}

/** `delta` merged into a copy of `known`: objects field by field, anything else replaced. */
function deepMerge(known: Status, delta: Status): Status {
  const merged: Status = { ...known };
  for (const [k, v] of Object.entries(delta))
    merged[k] = isObject(v) && isObject(known[k]) ? deepMerge(known[k], v) : structuredClone(v);
  return merged;
}
