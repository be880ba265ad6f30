import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Config } from '../src/config.js';
import { buildingsModule } from '../src/modules/buildings/index.js';
import { MalformedPayload } from '../src/modules/devices/format.js';
import { knownStatus } from '../src/modules/devices/formats/shelly-gen2.js';
import { createDeviceSink, seriesOf } from '../src/modules/devices/sink.js';
import { build } from './helpers.js';
import { readShellyGen1Status } from '../src/modules/devices/poll/shelly-gen1.js';
import { readShellyGen2Status } from '../src/modules/devices/poll/shelly-gen2.js';
import { bySeries, type Message, recorded, subscription, values } from './devices-fixtures.js';

const text = (topic: string, payload: string): Message => ({ topic, payload: Buffer.from(payload) });

test('a Shelly Plug S (Gen1): power in W, relay energy in watt-minutes becomes a Wh counter, online', () => {
  const [online, relayState, power, energy, temperature, announce, offline] = recorded('shelly-plug-s-gen1');
  const shellies = subscription('shelly-gen1', 'shellies/#');
  const at = Date.UTC(2024, 5, 3, 17, 5);
  assert.deepEqual(shellies.parse(online, at).availability, { device: 'shellyplug-s-C8C9A3', online: true, ts: at });
  assert.equal(shellies.parse(offline, at).availability?.online, false);
  const [w] = shellies.parse(power, at).readings;
  assert.deepEqual(w, {
    device: 'shellyplug-s-C8C9A3',
    quantity: 'relay0/power',
    ts: at,
    value: 1203.45,
    unit: 'W',
    kind: 'gauge',
    sensorType: 'power',
  });
  const [wh] = shellies.parse(energy, at).readings;
  assert.deepEqual([wh.quantity, wh.value, wh.unit, wh.kind], ['relay0/energy', 183840 / 60, 'Wh', 'counter']);
  for (const quiet of [relayState, temperature, announce]) assert.deepEqual(shellies.parse(quiet, at).readings, []);
});

test('a Shelly 3EM (Gen1): each emeter its own quantities, total and total_returned Wh counters', () => {
  const shellies = subscription('shelly-gen1', 'shellies/+/emeter/#');
  const all = recorded('shelly-3em-gen1').flatMap((m) => shellies.parse(m).readings);
  const v = Object.fromEntries(all.map((r) => [r.quantity, r.value]));
  assert.deepEqual(v, {
    'emeter0/power': 412.36,
    'emeter0/power_factor': 0.78,
    'emeter0/current': 2.25,
    'emeter0/voltage': 235.04,
    'emeter0/energy': 871552.3,
    'emeter0/energy_returned': 10321.7,
    'emeter1/power': -1520.11,
    'emeter2/reactive_power': -88.1,
  });
  assert.ok(all.every((r) => r.device === 'shellyem3-8CAAB5616291'));
  const total = all.find((r) => r.quantity === 'emeter0/energy');
  assert.deepEqual([total?.unit, total?.kind, total?.sensorType], ['Wh', 'counter', 'energy']);
  // emeter/0/energy (watt-minutes since the last report) is total's increase again: not stored
  assert.ok(!all.some((r) => r.value === 412 && r.quantity.includes('energy')));
});

test('Shelly Gen2: a NotifyStatus delta merges onto NotifyFullStatus; readings only for the fields it carries', () => {
  const [full, delta, energyDelta, event] = recorded('shelly-plus-plug-s-gen2');
  const rpc = subscription('shelly-gen2', '+/events/rpc');
  const device = 'shellyplusplugs-e86beae0f1a4';

  const first = rpc.parse(full);
  assert.deepEqual(values(first), {
    'switch0/power': 86.4,
    'switch0/voltage': 236.9,
    'switch0/current': 0.412,
    'switch0/frequency': 50,
    'switch0/energy': 12876.345,
    'switch0/energy_returned': 0,
  });
  assert.ok(
    first.readings.every((r) => r.device === device && r.ts === 1717434000120),
    'params.ts is UTC seconds',
  );
  const energy = first.readings.find((r) => r.quantity === 'switch0/energy');
  assert.deepEqual([energy?.unit, energy?.kind], ['Wh', 'counter']);

  // the delta says only apower and current: voltage and energy are not restated at its time, nor zero
  const second = rpc.parse(delta);
  assert.deepEqual(values(second), { 'switch0/power': 1204.2, 'switch0/current': 5.121 });
  assert.ok(second.readings.every((r) => r.ts === 1717434031570));
  const known = knownStatus(rpc.state, device) as Record<string, Record<string, unknown>>;
  assert.equal(known['switch:0'].apower, 1204.2);
  assert.equal(known['switch:0'].voltage, 236.9, 'what the delta left out is kept');
  assert.deepEqual(known['switch:0'].temperature, { tC: 34.8, tF: 94.6 });
  assert.equal((known.wifi as Record<string, unknown>).rssi, -58);

  // aenergy: the total is the Wh counter; by_minute is the same energy and is not stored
  assert.deepEqual(values(rpc.parse(energyDelta)), { 'switch0/energy': 12896.215 });
  assert.deepEqual(rpc.parse(event).readings, [], 'NotifyEvent has no measurement');

  // a new full status replaces what was known (temperature gone, power as it now says)
  const fresh = JSON.parse(full.payload.toString());
  delete fresh.params['switch:0'].temperature;
  delete fresh.params.wifi;
  rpc.parse({ ...full, payload: Buffer.from(JSON.stringify(fresh)) });
  const replaced = knownStatus(rpc.state, device) as Record<string, Record<string, unknown>>;
  assert.equal(replaced['switch:0'].temperature, undefined);
  assert.equal(replaced.wifi, undefined);
  assert.equal(replaced['switch:0'].apower, 86.4);
});

test('Shelly Pro 3EM: em per-phase power and emdata per-phase and total Wh counters', () => {
  const [em, emdata] = recorded('shelly-pro-3em-gen2');
  const rpc = subscription('shelly-gen2', '+/events/rpc');
  const p = rpc.parse(em);
  const v = values(p);
  assert.deepEqual(
    [v['em0/power_l1'], v['em0/power_l2'], v['em0/power_l3'], v['em0/power']],
    [951.2, -951.1, 715.3, 715.4],
  );
  assert.deepEqual(
    [v['em0/voltage_l1'], v['em0/current_l3'], v['em0/apparent_power'], v['em0/frequency_l2']],
    [236.1, 3.03, 2620, 50],
  );
  assert.equal(v['em0/current_n'], undefined, 'a null field is unknown: no reading');
  const types = Object.fromEntries(p.readings.map((r) => [r.quantity, r.sensorType]));
  assert.deepEqual(
    [types['em0/power'], types['em0/power_l1']],
    ['power', 'generic'],
    'phases are not added to the total twice',
  );

  const e = rpc.parse(emdata);
  assert.deepEqual(values(e), {
    'em0/energy_l1': 2776175.02,
    'em0/energy_l2': 2621.16,
    'em0/energy_l3': 1922364.11,
    'em0/energy_returned_l1': 0,
    'em0/energy_returned_l2': 1523898.63,
    'em0/energy_returned_l3': 0,
    'em0/energy': 4701160.29,
    'em0/energy_returned': 1523898.63,
  });
  assert.ok(e.readings.every((r) => r.unit === 'Wh' && r.kind === 'counter' && r.ts === 1717434120000));
  assert.equal(e.readings.find((r) => r.quantity === 'em0/energy')?.sensorType, 'energy');
});

test('Shelly Pro EM: <prefix>/status/em1:N and em1data:N', () => {
  const status = subscription('shelly-gen2', '+/status/+');
  const at = Date.UTC(2024, 1, 14, 17, 16);
  const [em1, em1data] = recorded('shelly-pro-em-gen2');
  const power = status.parse(em1, at);
  assert.deepEqual(values(power), {
    'em1_1/power': 5080.3,
    'em1_1/apparent_power': 5142.4,
    'em1_1/voltage': 224.6,
    'em1_1/current': 22.78,
    'em1_1/power_factor': 0.99,
    'em1_1/frequency': 50,
  });
  assert.ok(power.readings.every((r) => r.device === 'shellyproem50-08f9e0e67204' && r.ts === at));
  assert.deepEqual(values(status.parse(em1data, at)), { 'em1_1/energy': 6644.9, 'em1_1/energy_returned': 2595.26 });
  const known = knownStatus(status.state, 'shellyproem50-08f9e0e67204') as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(known).sort(), ['em1:1', 'em1data:1']);
});

test('malformed Shelly payloads throw MalformedPayload saying why', () => {
  const gen1 = subscription('shelly-gen1', 'shellies/#');
  const gen2 = subscription('shelly-gen2', '+/events/rpc');
  const bad = (s: typeof gen1, m: Message, reason: RegExp) =>
    assert.throws(
      () => s.parse(m),
      (err: Error) => err instanceof MalformedPayload && reason.test(err.message),
    );
  bad(gen1, text('shellies/plug/relay/0/power', 'n/a'), /relay\/0\/power must carry a number \(got "n\/a"\)/);
  bad(gen1, text('shellies/plug/relay/0/energy', ''), /must carry a number/);
  bad(gen1, text('shellies/plug/online', 'yes'), /online must be true or false/);
  bad(gen2, text('plug/events/rpc', '{"method":'), /events\/rpc frame is not JSON/);
  bad(gen2, text('plug/events/rpc', '{"params":{}}'), /has no method/);
  bad(gen2, text('plug/events/rpc', '{"method":"NotifyStatus","params":{"ts":"now"}}'), /params.ts must be a number/);
  bad(
    gen2,
    text('plug/events/rpc', '{"method":"NotifyStatus","params":[1]}'),
    /NotifyStatus params must be a JSON object/,
  );
  bad(
    gen2,
    text('plug/events/rpc', '{"method":"NotifyStatus","params":{"switch:0":{"apower":"12 W"}}}'),
    /switch:0.apower must be a number \(got "12 W"\)/,
  );
  // good messages among the bad still read
  assert.deepEqual(values(gen1.parse(text('shellies/plug/relay/0/power', '12.5'))), { 'relay0/power': 12.5 });
});

test('a Gen1 plug rebooting mid-hour (its energy counter back to 0) neither loses nor doubles the hour', async (t) => {
  const { app, request } = await build(t);
  const config = app.ctx.config as Config;
  // the app's own buildings service on the app's store and bus (startWattline keeps it to itself)
  const { service: buildings } = await buildingsModule.create(
    {
      settings: { buildings: config.buildings },
      core: config,
      log: app.ctx.log,
      registry: app.ctx.registry,
      store: app.ctx.store,
      bus: app.ctx.bus,
      keys: app.ctx.keys,
      connections: app.ctx.connections,
    },
    { readings: app.readings, now: Date.now },
  );
  const sink = createDeviceSink({ bus: app.ctx.bus, store: app.ctx.store, buildings, log: app.ctx.log, now: Date.now });
  const shellies = subscription('shelly-gen1', 'shellies/#');
  const topic = 'shellies/shellyplug-s-C8C9A3/relay/0/energy';
  const at = (h: number, m: number) => Date.UTC(2024, 5, 3, h, m);
  // watt-minutes as the plug reports them; it reboots between 10:20 and 10:30 and counts from 0 again
  const reports: [number, number][] = [
    [at(9, 55), 120_000],
    [at(10, 10), 150_000],
    [at(10, 20), 168_000],
    [at(10, 30), 3_000],
    [at(10, 50), 33_000],
    [at(11, 5), 45_000],
  ];
  for (const [receivedMs, wattMinutes] of reports) {
    const parsed = shellies.parse(text(topic, String(wattMinutes)), receivedMs);
    await sink.write(parsed.readings, { family: 'shelly-gen1', source: 'mqtt', prefix: 'devices' });
  }
  // by hand, in Wh (÷60), each span's change spread over its minutes:
  // 09:55–10:10 +500 of which 10/15 in the hour, 10:10–10:20 +300, the reboot +50 (counted from 0),
  // 10:30–10:50 +500, 10:50–11:05 +200 of which 10/15 in the hour
  const expected = (500 * 10) / 15 + 300 + 50 + 500 + (200 * 10) / 15;
  const series = seriesOf('devices', { device: 'shellyplug-s-C8C9A3', quantity: 'relay0/energy' });
  const energy = await request(
    `/api/v1/energy?series=${series}&start=2024-06-03T10:00:00Z&end=2024-06-03T11:00:00Z&window=1h&unit=Wh`,
  );
  assert.equal(energy.status, 200, JSON.stringify(energy.body));
  assert.equal(energy.body.unit, 'Wh');
  const [result] = energy.body.results;
  assert.equal(result.kind, 'counter');
  assert.equal(result.points.length, 1);
  assert.ok(
    Math.abs(result.points[0].value - expected) < 1e-6,
    `hour ${result.points[0].value} Wh, expected ${expected}`,
  );
  // the plug is a sensor with no manual step, its counter in Wh
  const sensors = await request('/api/v1/sensors/get?sensor_type=energy');
  const sensor = sensors.body.sensors.find((s: { series: string }) => s.series === series);
  assert.deepEqual([sensor?.unit, sensor?.kind], ['Wh', 'counter']);
});

test('Shelly Gen2 polled (Shelly.GetStatus) or over MQTT (NotifyFullStatus), the same series, units, kinds and sensor types', () => {
  const rpc = subscription('shelly-gen2', '+/events/rpc');
  const [full] = recorded('shelly-plus-plug-s-gen2');
  const notified = rpc.parse(full).readings;
  // GetStatus answers the components NotifyFullStatus sends, without params.ts (its time is sys.unixtime)
  const { ts, ...components } = JSON.parse(full.payload.toString()).params;
  const device = 'shellyplusplugs-e86beae0f1a4';
  const polled = readShellyGen2Status(device, components, 0);
  assert.ok(notified.length > 0);
  assert.deepEqual(bySeries(polled, ['ts']), bySeries(notified, ['ts']));
  assert.ok(polled.every((r) => r.ts === components.sys.unixtime * 1000));

  // a Pro 3EM: its em:0 and emdata:0 notifications against one GetStatus holding both
  const frames = recorded('shelly-pro-3em-gen2');
  const meter = frames.flatMap((m) => rpc.parse(m).readings);
  const params = frames.map((m) => JSON.parse(m.payload.toString()).params);
  const status = { sys: { unixtime: params[1].ts }, ...params[0], ...params[1] };
  delete status.ts;
  const polledMeter = readShellyGen2Status(meter[0].device, status, 0);
  assert.ok(meter.some((r) => r.quantity === 'em0/energy') && meter.some((r) => r.quantity === 'em0/power_l1'));
  assert.deepEqual(bySeries(polledMeter, ['ts']), bySeries(meter, ['ts']));
});

test('Shelly Gen1 polled (/status) or over MQTT (relay and emeter topics), the same series, units, kinds and sensor types', () => {
  const shellies = subscription('shelly-gen1', 'shellies/#');
  const at = Date.UTC(2024, 5, 3, 17, 5);
  const plug = recorded('shelly-plug-s-gen1').flatMap((m) => shellies.parse(m, at).readings);
  // the plug's /status (trimmed): its meter is relay 0's, `total` in watt-minutes like relay/0/energy
  const plugStatus = {
    unixtime: at / 1000,
    relays: [{ ison: true }],
    meters: [{ power: 1203.45, is_valid: true, timestamp: at / 1000 + 3600, total: 183840 }],
  };
  assert.deepEqual(Object.keys(bySeries(plug)), [
    'devices/shellyplug-s-C8C9A3/relay0/power',
    'devices/shellyplug-s-C8C9A3/relay0/energy',
  ]);
  assert.deepEqual(bySeries(readShellyGen1Status('shellyplug-s-C8C9A3', plugStatus, 0)), bySeries(plug));

  // a 3EM's emeter topics against its /status emeters (`reactive` there is `reactive_power` on MQTT)
  const em = recorded('shelly-3em-gen1').flatMap((m) => shellies.parse(m, at).readings);
  const emStatus = {
    unixtime: at / 1000,
    emeters: [
      {
        power: 412.36,
        pf: 0.78,
        current: 2.25,
        voltage: 235.04,
        is_valid: true,
        total: 871552.3,
        total_returned: 10321.7,
      },
      { power: -1520.11, is_valid: true },
      { reactive: -88.1, is_valid: true },
    ],
  };
  assert.deepEqual(bySeries(readShellyGen1Status('shellyem3-8CAAB5616291', emStatus, 0)), bySeries(em));
});
