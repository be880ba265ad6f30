import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MalformedPayload, type MessageContext, type Parsed } from '../src/modules/devices/format.js';
import { emonhub, emonInput } from '../src/modules/devices/formats/emonhub.js';
import { FORMATS } from '../src/modules/devices/formats/index.js';
import { zigbee2mqtt } from '../src/modules/devices/formats/zigbee2mqtt.js';

const RECEIVED = Date.parse('2026-03-01T12:00:00Z');

function context(filter: string, topic: string, state = new Map<string, unknown>()): MessageContext {
  return { topic, filter, zone: 'Europe/London', receivedMs: RECEIVED, state };
}

/** The readings as `device quantity value unit kind sensorType @time`, one string each. */
function lines(parsed: Parsed): string[] {
  return parsed.readings.map(
    (r) => `${r.device} ${r.quantity} ${r.value} ${r.unit} ${r.kind} ${r.sensorType} @${new Date(r.ts).toISOString()}`,
  );
}

test('both formats are registered under their names', () => {
  assert.equal(FORMATS.zigbee2mqtt, zigbee2mqtt);
  assert.equal(FORMATS.emonhub, emonhub);
});

test('a Zigbee2MQTT plug reports power, an energy counter in kWh, voltage and current at the receive time', () => {
  const payload = Buffer.from(
    JSON.stringify({ power: 1520.4, energy: 12.34, voltage: 231, current: 6.6, state: 'ON', linkquality: 120 }),
  );
  const parsed = zigbee2mqtt.parse(payload, context('zigbee2mqtt/#', 'zigbee2mqtt/washer'));
  assert.deepEqual(lines(parsed), [
    'washer power 1520.4 W gauge power @2026-03-01T12:00:00.000Z',
    'washer energy 12.34 kWh counter energy @2026-03-01T12:00:00.000Z',
    'washer voltage 231 V gauge voltage @2026-03-01T12:00:00.000Z',
    'washer current 6.6 A gauge current @2026-03-01T12:00:00.000Z',
  ]);
});

test('a friendly name with / is the whole device name; temperature and humidity get their sensor types', () => {
  const payload = Buffer.from(JSON.stringify({ temperature: 19.5, humidity: 48, battery: 97, power: null }));
  const parsed = zigbee2mqtt.parse(payload, context('zigbee2mqtt/#', 'zigbee2mqtt/upstairs/bedroom/climate'));
  assert.deepEqual(lines(parsed), [
    'upstairs/bedroom/climate temperature 19.5 °C gauge temperature @2026-03-01T12:00:00.000Z',
    'upstairs/bedroom/climate humidity 48 % gauge humidity @2026-03-01T12:00:00.000Z',
  ]);
});

test('cache_state repeats: a repeated energy total adds nothing, a changed one and every power sample do', () => {
  const state = new Map<string, unknown>();
  const ctx = context('zigbee2mqtt/#', 'zigbee2mqtt/kitchen/kettle', state);
  const message = (power: number, energy: number) => Buffer.from(JSON.stringify({ power, energy }));
  assert.deepEqual(
    zigbee2mqtt.parse(message(2000, 5.1), ctx).readings.map((r) => `${r.quantity}=${r.value}`),
    ['power=2000', 'energy=5.1'],
  );
  assert.deepEqual(
    zigbee2mqtt.parse(message(2000, 5.1), ctx).readings.map((r) => `${r.quantity}=${r.value}`),
    ['power=2000'],
  );
  assert.deepEqual(
    zigbee2mqtt.parse(message(0, 5.2), ctx).readings.map((r) => `${r.quantity}=${r.value}`),
    ['power=0', 'energy=5.2'],
  );
  // another device's total is its own
  const other = zigbee2mqtt.parse(message(10, 5.1), context('zigbee2mqtt/#', 'zigbee2mqtt/kitchen/fridge', state));
  assert.deepEqual(
    other.readings.map((r) => `${r.quantity}=${r.value}`),
    ['power=10', 'energy=5.1'],
  );
});

test('availability in both forms says online or offline; bridge, set and get topics carry no readings', () => {
  const plain = zigbee2mqtt.parse(Buffer.from('offline'), context('zigbee2mqtt/#', 'zigbee2mqtt/a/plug/availability'));
  assert.deepEqual(plain, { readings: [], availability: { device: 'a/plug', online: false, ts: RECEIVED } });
  const json = zigbee2mqtt.parse(
    Buffer.from('{"state":"online"}'),
    context('zigbee2mqtt/#', 'zigbee2mqtt/a/plug/availability'),
  );
  assert.deepEqual(json.availability, { device: 'a/plug', online: true, ts: RECEIVED });
  for (const topic of [
    'zigbee2mqtt/bridge/state',
    'zigbee2mqtt/bridge/devices',
    'zigbee2mqtt/plug/set',
    'zigbee2mqtt/plug/get',
  ])
    assert.deepEqual(
      zigbee2mqtt.parse(Buffer.from('{"power":5}'), context('zigbee2mqtt/#', topic)),
      { readings: [] },
      topic,
    );
});

test('a Zigbee2MQTT payload that is not a JSON object, or an unknown availability, is malformed', () => {
  assert.throws(
    () => zigbee2mqtt.parse(Buffer.from('ON'), context('zigbee2mqtt/#', 'zigbee2mqtt/plug')),
    MalformedPayload,
  );
  assert.throws(
    () => zigbee2mqtt.parse(Buffer.from('[1]'), context('zigbee2mqtt/#', 'zigbee2mqtt/plug')),
    MalformedPayload,
  );
  assert.throws(
    () => zigbee2mqtt.parse(Buffer.from('maybe'), context('zigbee2mqtt/#', 'zigbee2mqtt/plug/availability')),
    /expected online, offline/,
  );
});

test('emonhub input names give units: P W, E Wh counters, vrms V, temperatures °C, others none', () => {
  const check = (name: string, expected: string) => {
    const i = emonInput(name);
    assert.equal(`${i.unit} ${i.kind} ${i.sensorType}`, expected, name);
  };
  check('P1', 'W gauge power');
  check('power1', 'W gauge power');
  check('power1pluspower2', 'W gauge generic');
  check('E1', 'Wh counter energy');
  check('vrms', 'V gauge voltage');
  check('V2', 'V gauge voltage');
  check('I3', 'A gauge current');
  check('T1', '°C gauge temperature');
  check('t4', '°C gauge temperature');
  check('external temperature', '°C gauge temperature');
  check('humidity', '% gauge humidity');
  check('pulse', 'null gauge generic');
  check('rssi', 'null gauge generic');
  check('PF', 'null gauge generic');
});

test('emonhub nodevar topics: a plain number at the receive time', () => {
  const parsed = emonhub.parse(Buffer.from('352.5'), context('emon/#', 'emon/emontx4/P1'));
  assert.deepEqual(lines(parsed), ['emontx4 P1 352.5 W gauge power @2026-03-01T12:00:00.000Z']);
  const energy = emonhub.parse(Buffer.from('10234'), context('emon/#', 'emon/emontx4/E1'));
  assert.deepEqual(lines(energy), ['emontx4 E1 10234 Wh counter energy @2026-03-01T12:00:00.000Z']);
});

test('emonhub JSON topics: every input at the payload time (Unix seconds), else at the receive time', () => {
  const payload = Buffer.from('{"P1":120,"E1":5400,"vrms":240.1,"rssi":-60,"time":1772366400}');
  assert.deepEqual(lines(emonhub.parse(payload, context('emon/#', 'emon/emonpi'))), [
    'emonpi P1 120 W gauge power @2026-03-01T12:00:00.000Z',
    'emonpi E1 5400 Wh counter energy @2026-03-01T12:00:00.000Z',
    'emonpi vrms 240.1 V gauge voltage @2026-03-01T12:00:00.000Z',
    'emonpi rssi -60 null gauge generic @2026-03-01T12:00:00.000Z',
  ]);
  const untimed = emonhub.parse(Buffer.from('{"T1":21.5}'), context('emon/#', 'emon/emonth'));
  assert.deepEqual(lines(untimed), ['emonth T1 21.5 °C gauge temperature @2026-03-01T12:00:00.000Z']);
  const timed = emonhub.parse(Buffer.from('{"P1":1,"time":1772366390.5}'), context('emon/#', 'emon/emonpi'));
  assert.equal(new Date(timed.readings[0].ts).toISOString(), '2026-03-01T11:59:50.500Z');
});

test('an emonhub payload that is not a number or a JSON object of numbers is malformed', () => {
  assert.throws(() => emonhub.parse(Buffer.from('abc'), context('emon/#', 'emon/emontx/P1')), /must carry a number/);
  assert.throws(() => emonhub.parse(Buffer.from('{"P1":"x"}'), context('emon/#', 'emon/emontx')), /input P1/);
  assert.throws(() => emonhub.parse(Buffer.from('{"P1":1,"time":"now"}'), context('emon/#', 'emon/emontx')), /time/);
  assert.throws(() => emonhub.parse(Buffer.from('{oops'), context('emon/#', 'emon/emontx')), MalformedPayload);
});
