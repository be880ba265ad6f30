import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeviceReading } from '../format.js';
import { digestAuthorization, parseChallenge } from './http.js';
import { readHttpJson } from './http-json.js';
import { readShellyGen1Status } from './shelly-gen1.js';
import { readShellyGen2Status } from './shelly-gen2.js';

test('digest answer: the SHA-256 example of RFC 7616 §3.9.1', () => {
  const challenge = parseChallenge(
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
  assert.ok(challenge);
  const header = digestAuthorization(
    challenge,
    { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle of Life' },
    'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  );
  assert.match(header ?? '', /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/);
  assert.match(header ?? '', /qop=auth, nc=00000001/);
  assert.match(header ?? '', /opaque="FQhe\/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"/);
});

/** `quantity → "value unit kind sensor type"` of a poll's readings. */
const values = (readings: DeviceReading[]) =>
  Object.fromEntries(readings.map((x) => [x.quantity, `${x.value} ${x.unit ?? '-'} ${x.kind} ${x.sensorType}`]));

test('Shelly Pro 3EM status: per-phase power and Wh counters of em:0 and emdata:0 under em0, as over MQTT', () => {
  const r = readShellyGen2Status(
    'pro3em',
    {
      sys: { unixtime: 1717243200 },
      'em:0': {
        id: 0,
        a_current: 1.2,
        a_voltage: 230.1,
        a_act_power: 250.5,
        a_aprt_power: 270,
        a_pf: 0.93,
        total_act_power: 900.2,
        user_calibrated_phase: [],
      },
      'emdata:0': {
        id: 0,
        a_total_act_energy: 1500.25,
        a_total_act_ret_energy: 3.5,
        total_act: 5123.4,
        total_act_ret: 10.1,
      },
    },
    0,
  );
  assert.ok(r.every((x) => x.device === 'pro3em' && x.ts === 1717243200_000));
  assert.deepEqual(values(r), {
    'em0/current_l1': '1.2 A gauge current',
    'em0/voltage_l1': '230.1 V gauge voltage',
    'em0/power_l1': '250.5 W gauge generic',
    'em0/apparent_power_l1': '270 VA gauge generic',
    'em0/power_factor_l1': '0.93 - gauge generic',
    'em0/power': '900.2 W gauge power',
    'em0/energy_l1': '1500.25 Wh counter generic',
    'em0/energy_returned_l1': '3.5 Wh counter generic',
    'em0/energy': '5123.4 Wh counter energy',
    'em0/energy_returned': '10.1 Wh counter generic',
  });
});

test('Shelly EM (Gen1) status: emeters with Wh counters; an invalid measurement keeps only its counters; no clock yet: the poll time', () => {
  const r = readShellyGen1Status(
    'em',
    {
      unixtime: 0,
      emeters: [
        {
          power: 512.3,
          reactive: -20.1,
          pf: 0.99,
          voltage: 229.8,
          is_valid: true,
          total: 81234.5,
          total_returned: 12.5,
        },
        { power: 0, reactive: 0, voltage: 229.8, is_valid: false, total: 10, total_returned: 0 },
      ],
    },
    1717243200_000,
  );
  assert.ok(r.every((x) => x.ts === 1717243200_000));
  assert.deepEqual(values(r), {
    'emeter0/power': '512.3 W gauge power',
    'emeter0/reactive_power': '-20.1 var gauge generic',
    'emeter0/power_factor': '0.99 - gauge generic',
    'emeter0/voltage': '229.8 V gauge voltage',
    'emeter0/energy': '81234.5 Wh counter energy',
    'emeter0/energy_returned': '12.5 Wh counter generic',
    'emeter1/energy': '10 Wh counter energy',
    'emeter1/energy_returned': '0 Wh counter generic',
  });
});

test('http-json: units from the field names, one nested level, a local time read in the device zone', () => {
  const r = readHttpJson(
    'inv',
    { time: '2024-01-15T10:00:00', power_w: 1200, energy_kwh: 345.6, l1: { voltage_v: 231 }, state: 'on', ratio: 0.5 },
    'Europe/Berlin',
    0,
  );
  assert.equal(new Date(r.ts).toISOString(), '2024-01-15T09:00:00.000Z');
  assert.deepEqual(values(r.readings), {
    power_w: '1200 W gauge power',
    energy_kwh: '345.6 kWh counter energy',
    'l1/voltage_v': '231 V gauge voltage',
    ratio: '0.5 - gauge generic',
  });
});
