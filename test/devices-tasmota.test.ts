import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MalformedPayload } from '../src/modules/devices/format.js';
import { status10Readings } from '../src/modules/devices/formats/tasmota.js';
import { bySeries, recorded, subscription, values } from './devices-fixtures.js';

const [lwtOnline, powSensor, powState, lwtOffline] = recorded('tasmota-pow');

test('a Sonoff POW: ENERGY fields in their units, Total a kWh counter, Period not stored beside it', () => {
  const tele = subscription('tasmota', 'tele/+/SENSOR');
  const parsed = tele.parse(powSensor);
  assert.deepEqual(values(parsed), {
    power: 1843,
    apparent_power: 1851,
    reactive_power: 172,
    voltage: 238,
    current: 7.777,
    power_factor: 0.99,
    energy: 152.317,
    energy_today: 0.391,
  });
  const byQuantity = Object.fromEntries(parsed.readings.map((r) => [r.quantity, r]));
  assert.deepEqual(
    { unit: byQuantity.energy.unit, kind: byQuantity.energy.kind, sensorType: byQuantity.energy.sensorType },
    { unit: 'kWh', kind: 'counter', sensorType: 'energy' },
  );
  assert.deepEqual(
    [byQuantity.power.unit, byQuantity.apparent_power.unit, byQuantity.reactive_power.unit],
    ['W', 'VA', 'var'],
  );
  // Today is a counter too, but not an energy sensor: a room adding its sensors would count Total's energy twice
  assert.equal(byQuantity.energy_today.sensorType, 'generic');
  assert.ok(parsed.readings.every((r) => r.device === 'kitchen_kettle'));
  // "2024-06-03T18:05:00" is local time in Europe/London (BST): 17:05 UTC
  assert.ok(parsed.readings.every((r) => r.ts === Date.UTC(2024, 5, 3, 17, 5)));
  assert.deepEqual(tele.parse(powState).readings, [], 'STATE carries no measurement');
});

test('FullTopic is whatever the device has: the device is what the wildcards matched', () => {
  const custom = { ...powSensor, topic: 'home/kitchen_kettle/tele/SENSOR' };
  assert.equal(subscription('tasmota', 'home/+/tele/SENSOR').parse(custom).readings[0].device, 'kitchen_kettle');
  assert.equal(subscription('tasmota', 'tele/#').parse(powSensor).readings[0].device, 'kitchen_kettle');
  const grouped = { ...powSensor, topic: 'tele/garage/charger/SENSOR' };
  assert.equal(subscription('tasmota', 'tele/#').parse(grouped).readings[0].device, 'garage/charger');
});

test('LWT Online/Offline is the device availability', () => {
  const lwt = subscription('tasmota', 'tele/+/LWT');
  const at = Date.UTC(2024, 5, 3, 17, 0);
  assert.deepEqual(lwt.parse(lwtOnline, at), {
    readings: [],
    availability: { device: 'kitchen_kettle', online: true, ts: at },
  });
  assert.equal(lwt.parse(lwtOffline, at).availability?.online, false);
});

test('a three-phase meter: one series per phase, the total power their sum, times with offset or Epoch', () => {
  const [scalarTotal, phaseTotals] = recorded('tasmota-three-phase');
  const tele = subscription('tasmota', 'tele/+/SENSOR');
  const first = tele.parse(scalarTotal);
  const v = values(first);
  assert.deepEqual([v.power_l1, v.power_l2, v.power_l3, v.power], [1280, 2910, 415, 1280 + 2910 + 415]);
  assert.deepEqual([v.voltage_l1, v.voltage_l2, v.voltage_l3], [236, 234, 237]);
  assert.deepEqual([v.current_l1, v.power_factor_l3, v.frequency_l2], [5.724, 0.83, 50]);
  assert.equal(v.energy, 3185.406);
  assert.equal(v.voltage, undefined, 'voltages are not added up');
  const types = Object.fromEntries(first.readings.map((r) => [r.quantity, r.sensorType]));
  assert.deepEqual([types.power, types.power_l1], ['power', 'generic'], 'only the total is a power sensor');
  assert.ok(!first.readings.some((r) => r.quantity.startsWith('period')));
  // "+01:00" is said: the zone is not asked
  assert.ok(first.readings.every((r) => r.ts === Date.UTC(2024, 5, 3, 17, 5)));

  const second = tele.parse(phaseTotals);
  const w = values(second);
  assert.deepEqual([w.energy_l1, w.energy_l2, w.energy_l3], [1012.118, 1841.5, 332.19]);
  assert.ok(Math.abs(w.energy - (1012.118 + 1841.5 + 332.19)) < 1e-9);
  assert.equal(second.readings.find((r) => r.quantity === 'energy_l2')?.kind, 'counter');
  // Epoch wins over Time
  assert.ok(second.readings.every((r) => r.ts === 1717434600_000));
});

test('a device time without offset on the day London clocks go back: the 01:30 nearer the arrival', () => {
  // 2024-10-27 01:30 happens twice in Europe/London: 00:30 UTC (BST) and 01:30 UTC (GMT)
  const message = {
    topic: 'tele/kitchen_kettle/SENSOR',
    payload: Buffer.from(JSON.stringify({ Time: '2024-10-27T01:30:00', ENERGY: { Power: 5 } })),
  };
  const tele = subscription('tasmota', 'tele/+/SENSOR', 'Europe/London');
  const firstPass = tele.parse(message, Date.UTC(2024, 9, 27, 0, 30, 2)).readings[0].ts;
  const secondPass = tele.parse(message, Date.UTC(2024, 9, 27, 1, 30, 2)).readings[0].ts;
  assert.equal(new Date(firstPass).toISOString(), '2024-10-27T00:30:00.000Z');
  assert.equal(new Date(secondPass).toISOString(), '2024-10-27T01:30:00.000Z');
  // an hour that is not ambiguous is read in the zone whatever the arrival: 02:30 GMT
  const later = {
    ...message,
    payload: Buffer.from(JSON.stringify({ Time: '2024-10-27T02:30:00', ENERGY: { Power: 5 } })),
  };
  assert.equal(
    new Date(tele.parse(later, Date.UTC(2024, 9, 27, 0, 0)).readings[0].ts).toISOString(),
    '2024-10-27T02:30:00.000Z',
  );
  // 01:30 on the day clocks go forward never happens: read with the offset before the jump (GMT)
  const skipped = {
    ...message,
    payload: Buffer.from(JSON.stringify({ Time: '2024-03-31T01:30:00', ENERGY: { Power: 5 } })),
  };
  assert.equal(
    new Date(tele.parse(skipped, Date.UTC(2024, 2, 31, 1, 30)).readings[0].ts).toISOString(),
    '2024-03-31T01:30:00.000Z',
  );
});

test('malformed payloads throw MalformedPayload saying why', () => {
  const tele = subscription('tasmota', 'tele/+/+');
  const bad = (topic: string, payload: string, reason: RegExp) =>
    assert.throws(
      () => tele.parse({ topic, payload: Buffer.from(payload) }),
      (err: Error) => err instanceof MalformedPayload && reason.test(err.message),
    );
  bad('tele/plug/SENSOR', '{"ENERGY":{"Power":', /SENSOR is not JSON/);
  bad('tele/plug/SENSOR', '[1,2]', /SENSOR must be a JSON object/);
  bad('tele/plug/SENSOR', '{"ENERGY":{"Power":"high"}}', /ENERGY.Power must be a number \(got "high"\)/);
  bad('tele/plug/SENSOR', '{"ENERGY":{"Voltage":[230,"x",231]}}', /ENERGY.Voltage\[1\] must be a number/);
  bad('tele/plug/SENSOR', '{"Time":"yesterday","ENERGY":{"Power":1}}', /Time must be an ISO date-time/);
  bad('tele/plug/LWT', 'Maybe', /LWT must be Online or Offline/);
  // a good message after the bad ones still reads
  assert.equal(values(tele.parse(powSensor)).power, 1843);
});

test('polled (Status 10) or over MQTT (SENSOR), the same device gives the same series, units, kinds, sensor types and times', () => {
  const tele = subscription('tasmota', 'tele/+/SENSOR');
  const receivedMs = Date.UTC(2024, 5, 3, 17, 5, 1);
  for (const message of [powSensor, ...recorded('tasmota-three-phase')]) {
    const telemetry = tele.parse(message, receivedMs).readings;
    // the poller's answer to GET /cm?cmnd=Status%2010: the same object under StatusSNS
    const answer = { StatusSNS: JSON.parse(message.payload.toString()) };
    const device = telemetry[0].device;
    const polled = status10Readings(device, answer, 'Europe/London', receivedMs);
    assert.ok(telemetry.length >= 8, `${message.topic} has readings`);
    assert.deepEqual(bySeries(polled), bySeries(telemetry));
  }
});
