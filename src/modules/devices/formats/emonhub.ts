import { type DeviceReading, MalformedPayload, type PayloadFormat } from '../format.js';
import {
  expectEpoch,
  expectNumber,
  expectObject,
  parseJson,
  plainNumber,
  Q,
  type Quantity,
  reading,
} from './common.js';

const TEMPERATURE: Quantity = { unit: '°C', kind: 'gauge', sensorType: 'temperature' };
const HUMIDITY: Quantity = { unit: '%', kind: 'gauge', sensorType: 'humidity' };
const OTHER: Quantity = { unit: null, kind: 'gauge', sensorType: 'generic' };

/**
 * What an emonTx/emonPi input measures, by the names emonhub's node templates give them (emonhub
 * `conf/*.emonhub.conf`, emonTx4/emonPi2 firmware): `P1`…/`power1`… are watts (each CT its own
 * circuit; emonPi's `power1pluspower2` a sum of two, so not a `power` sensor), `E1`… Wh totals
 * (counters), `V1`…/`vrms` volts, `I1`…/`irms` amps, `T1`…/`t1`…/`temp…` °C, `humidity` %. Any
 * other name (`pulse`, `rssi`, `battery`, `MSG`…) is a gauge without a unit. Shared by the MQTT
 * format and the Emoncms input API, so a node reads the same whichever way it arrives.
 */
export function emonInput(name: string): Quantity {
  if (/^power.*plus/i.test(name)) return Q.powerPart;
  if (/^P\d*$/.test(name) || /^power/i.test(name)) return Q.power;
  if (/^E\d*$/.test(name)) return Q.energyWh;
  if (/^V\d*$/.test(name) || /^vrms\d*$/i.test(name)) return Q.voltage;
  if (/^I\d*$/.test(name) || /^irms\d*$/i.test(name)) return Q.current;
  if (/^[Tt]\d+$/.test(name) || /temp/i.test(name)) return TEMPERATURE;
  if (/^humidity$/i.test(name)) return HUMIDITY;
  return OTHER;
}

/** One reading of an emon node's input. */
export const emonReading = (node: string, input: string, ts: number, value: number): DeviceReading =>
  reading(node, input, ts, value, emonInput(input));

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
    if (text.startsWith('{')) return { readings: jsonReadings(levels[levels.length - 1], payload, ctx.receivedMs) };
    if (levels.length < 2) throw new MalformedPayload(`topic ${ctx.topic}: expected <base>/<node>/<input>`);
    const value = plainNumber(payload, ctx.topic);
    return { readings: [emonReading(levels[levels.length - 2], levels[levels.length - 1], ctx.receivedMs, value)] };
  },
};

function jsonReadings(node: string, payload: Buffer, receivedMs: number): DeviceReading[] {
  const { time, ...inputs } = expectObject(parseJson(payload, 'the node'), 'the node');
  const ts = time === undefined ? receivedMs : expectEpoch(time, 'time (Unix seconds)');
  const readings: DeviceReading[] = [];
  for (const [input, value] of Object.entries(inputs)) {
    if (value === null) continue; // emonhub nulls a value it could not encode
    readings.push(emonReading(node, input, ts, expectNumber(value, `input ${input}`)));
  }
  return readings;
}
