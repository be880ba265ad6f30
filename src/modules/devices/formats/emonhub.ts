import type { SensorType } from '../../buildings/index.js';
import { type DeviceReading, MalformedPayload, type PayloadFormat } from '../format.js';

/** An emon input's unit, kind and sensor type, from its name alone. */
export type EmonInput = Pick<DeviceReading, 'unit' | 'kind'> & { sensorType: SensorType };

/**
 * What an emonTx/emonPi input measures, by the names emonhub's node templates give them (emonhub
 * `conf/*.emonhub.conf`, emonTx4/emonPi2 firmware): `P1`…/`power1`… are watts, `E1`… Wh totals
 * (counters), `V1`…/`vrms` volts, `I1`…/`irms` amps, `T1`…/`temp1`…/`temperature` °C, `humidity` %.
 * Any other name (`pulse`, `rssi`, `battery`, `MSG`…) is a gauge without a unit. Shared by the MQTT
 * format and the Emoncms input API, so a node reads the same whichever way it arrives.
 */
export function emonInput(name: string): EmonInput {
  if (/^P\d*$/.test(name) || /^power/i.test(name)) return { unit: 'W', kind: 'gauge', sensorType: 'power' };
  if (/^E\d*$/.test(name)) return { unit: 'Wh', kind: 'counter', sensorType: 'energy' };
  if (/^V\d*$/.test(name) || /^vrms\d*$/i.test(name)) return { unit: 'V', kind: 'gauge', sensorType: 'voltage' };
  if (/^I\d*$/.test(name) || /^irms\d*$/i.test(name)) return { unit: 'A', kind: 'gauge', sensorType: 'current' };
  if (/^T\d+$/.test(name) || /^t\d+$/.test(name) || /temp/i.test(name))
    return { unit: '°C', kind: 'gauge', sensorType: 'temperature' };
  if (/^humidity$/i.test(name)) return { unit: '%', kind: 'gauge', sensorType: 'humidity' };
  return { unit: null, kind: 'gauge', sensorType: 'generic' };
}

/** One reading of an emon node's input. */
export function emonReading(node: string, input: string, ts: number, value: number): DeviceReading {
  return { device: node, quantity: input, ts, value, ...emonInput(input) };
}

/**
 * emonhub's MQTT interfacer: `<base>/<node>/<input>` with a plain number (nodevar format; the
 * receive time), or `<base>/<node>` with a JSON object of inputs and an optional `time` in Unix
 * seconds (node_JSON format). The base topic is configurable in emonhub, so the node and input are
 * read from the end of the topic.
 */
export const emonhub: PayloadFormat = {
  name: 'emonhub',
  parse(payload, ctx) {
    const levels = ctx.topic.split('/');
    const text = payload.toString('utf8').trim();
    if (text.startsWith('{')) return { readings: jsonReadings(levels[levels.length - 1], text, ctx.receivedMs) };
    if (levels.length < 2) throw new MalformedPayload('expected a topic <base>/<node>/<input>');
    const value = numberOf(text);
    if (value === undefined) throw new MalformedPayload(`expected a number (got ${text.slice(0, 40)})`);
    return { readings: [emonReading(levels[levels.length - 2], levels[levels.length - 1], ctx.receivedMs, value)] };
  },
};

function jsonReadings(node: string, text: string, receivedMs: number): DeviceReading[] {
  let inputs: Record<string, unknown>;
  try {
    inputs = JSON.parse(text);
  } catch {
    throw new MalformedPayload('expected a JSON object of inputs');
  }
  const { time, ...values } = inputs;
  let ts = receivedMs;
  if (time !== undefined) {
    if (typeof time !== 'number' || !Number.isFinite(time))
      throw new MalformedPayload('time must be Unix seconds (a number)');
    ts = Math.round(time * 1000);
  }
  const readings: DeviceReading[] = [];
  for (const [input, raw] of Object.entries(values)) {
    if (raw === null) continue; // emonhub nulls a value it could not encode
    const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
    if (value === undefined) throw new MalformedPayload(`input ${input}: expected a number`);
    readings.push(emonReading(node, input, ts, value));
  }
  return readings;
}

/** A plain decimal number, as emonhub prints one (`230.5`, `-12`, `1e3`); undefined for anything else. */
export function numberOf(text: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim())) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
