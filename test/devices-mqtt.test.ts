import { Connections } from '../src/core/connections.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { connect } from 'nats';
import { Registry } from 'prom-client';
import { createLogger } from '../src/core/log.js';
import type { DeviceReading } from '../src/modules/devices/format.js';
import { startMqttSubscriber } from '../src/modules/devices/mqtt.js';
import { settings as devicesSettings } from '../src/modules/devices/settings.js';
import type { DeviceSink } from '../src/modules/devices/sink.js';
import { build, dropSchema, tempDir, until, uniqueSchema } from './helpers.js';
import { type ServeProcess, startServe } from './serve.js';
import { needService, services } from './services.js';

const T0 = Date.UTC(2026, 2, 1);
const LIMIT = { timeout: 120_000 };

/** A topic root and client id no other test (or earlier run) uses: no retained or session messages leak in. */
function unique() {
  const id = `wl-${process.pid}-${randomBytes(4).toString('hex')}`;
  return { root: `wattline-test/${id}`, clientId: id };
}

/** The subscriber's settings: one json subscription under the test's own topic root. */
function mqttSettings(u: ReturnType<typeof unique>) {
  return {
    url: services.mosquitto.url,
    clientId: u.clientId,
    subscriptions: JSON.stringify([{ topic: `${u.root}/#`, format: 'json' }]),
  };
}

/** The same as the app's config overrides (`mqtt.url`…). */
const overrides = (settings: Record<string, string>) =>
  Object.fromEntries(Object.entries(settings).map(([name, value]) => [`mqtt.${name}`, value]));

/** Ends the app's persistent session on the broker once the test is done (it would never expire). */
function forgetSession(t: TestContext, clientId: string) {
  t.after(async () => {
    const c = await mqtt.connectAsync(services.mosquitto.url, {
      clientId,
      clean: true,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 0 },
    });
    await c.endAsync();
  });
}

async function publisher(t: TestContext): Promise<MqttClient> {
  const client = await mqtt.connectAsync(services.mosquitto.url, { clientId: `${unique().clientId}-pub` });
  t.after(() => client.endAsync());
  return client;
}

const metric = (text: string, name: string) =>
  Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

/** `GET /api/v1/query` raw points of one series, as [epoch ms, value]. */
async function points(url: string, series: string): Promise<[number, number][]> {
  const r = await fetch(`${url}/api/v1/query?series=${series}&start=${T0 - 86_400_000}&end=${T0 + 86_400_000}`);
  assert.equal(r.status, 200);
  const body = (await r.json()) as { results: { points: { time: string; value: number }[] }[] };
  return body.results[0].points.map((p) => [Date.parse(p.time), p.value]);
}

test('json messages published with QoS 1 become queryable readings with their unit and kind', LIMIT, async (t) => {
  if (!(await needService(t, 'mosquitto'))) return;
  const u = unique();
  const w = await build(t, overrides(mqttSettings(u)));
  forgetSession(t, u.clientId); // after the app closed
  await until(async () => metric((await w.request('/metrics')).body, 'devices_mqtt_subscribed') === 1);

  const pub = await publisher(t);
  await pub.publishAsync(
    `${u.root}/meter1`,
    JSON.stringify({ series: 'home/meter1/power', value: 230.5, ts: new Date(T0).toISOString(), unit: 'W' }),
    { qos: 1 },
  );
  await pub.publishAsync(
    `${u.root}/meter1`,
    JSON.stringify([
      { series: 'home/meter1/energy', value: 10.0, ts: T0, unit: 'kWh' },
      { series: 'home/meter1/energy', value: 10.5, ts: T0 + 3_600_000, unit: 'kWh' },
    ]),
    { qos: 1 },
  );

  await until(async () => (await points(w.url, 'home/meter1/energy')).length === 2, 10_000, 'the energy readings');
  assert.deepEqual(await points(w.url, 'home/meter1/power'), [[T0, 230.5]]);
  // the json readings keep their own series key, with the unit they named
  const power = await w.request(`/api/v1/query?series=home/meter1/power&start=${T0}&end=${T0}`);
  assert.equal(power.body.results[0].unit, 'W');
  // a kWh total is a counter: its increase is the energy used
  const used = await w.request(
    `/api/v1/query?series=home/meter1/energy&start=${T0}&end=${T0 + 3_600_000}&window=1d&agg=increase`,
  );
  assert.equal(used.status, 200, JSON.stringify(used.body));
  assert.equal(used.body.results[0].points[0].value, 0.5);
  // and each quantity is a sensor of the buildings module without any manual step
  const sensors = await w.request('/api/v1/sensors/get');
  const ids = JSON.stringify(sensors.body);
  assert.match(ids, /home_meter1_power/);
  assert.match(ids, /home_meter1_energy/);
});

test(
  'a device family over the broker: a Tasmota SENSOR message becomes devices/<device>/<quantity>',
  LIMIT,
  async (t) => {
    if (!(await needService(t, 'mosquitto'))) return;
    const u = unique();
    const w = await build(
      t,
      overrides({
        ...mqttSettings(u),
        subscriptions: JSON.stringify([{ topic: `${u.root}/tele/+/SENSOR`, format: 'tasmota', timezone: 'UTC' }]),
      }),
    );
    forgetSession(t, u.clientId); // after the app closed
    await until(async () => metric((await w.request('/metrics')).body, 'devices_mqtt_subscribed') === 1);

    const pub = await publisher(t);
    const sensor = { Time: '2026-03-01T00:00:00', ENERGY: { Total: 152.317, Power: 1843 } };
    await pub.publishAsync(`${u.root}/tele/plug1/SENSOR`, JSON.stringify(sensor), { qos: 1 });
    await until(async () => (await points(w.url, 'devices/plug1/energy')).length === 1, 10_000, 'the Tasmota readings');
    assert.deepEqual(await points(w.url, 'devices/plug1/power'), [[T0, 1843]]);
    assert.deepEqual(await points(w.url, 'devices/plug1/energy'), [[T0, 152.317]]);
    const device = await w.request('/api/v1/devices/devices/plug1');
    assert.equal(device.status, 200, JSON.stringify(device.body));
    assert.equal(device.body.family, 'tasmota');
    assert.equal(device.body.source, 'mqtt');
  },
);

test(
  'a malformed payload among good ones is counted, logged once with its topic and reason, and skipped',
  LIMIT,
  async (t) => {
    if (!(await needService(t, 'mosquitto'))) return;
    const u = unique();
    let logs = '';
    const logDestination = new Writable({
      write(chunk, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    const w = await build(
      t,
      {
        ...overrides(mqttSettings(u)),
        'mqtt.username': 'wattline',
        'mqtt.password': 'never-logged-secret',
        logLevel: 'info',
      },
      undefined,
      { logDestination },
    );
    forgetSession(t, u.clientId); // after the app closed
    await until(async () => metric((await w.request('/metrics')).body, 'devices_mqtt_subscribed') === 1);

    const pub = await publisher(t);
    const good = (i: number) => JSON.stringify({ series: 'home/plug/power', value: i, ts: T0 + i * 1000 });
    await pub.publishAsync(`${u.root}/plug`, good(1), { qos: 1 });
    await pub.publishAsync(`${u.root}/plug`, '{"series": "home/plug/power", "value": 2', { qos: 1 });
    await pub.publishAsync(`${u.root}/plug`, good(3), { qos: 1 });
    await pub.publishAsync(`${u.root}/plug`, '{"series": "home/plug/power", "value": 4', { qos: 1 }); // the same reason
    await pub.publishAsync(`${u.root}/plug`, good(5), { qos: 1 });

    await until(async () => (await points(w.url, 'home/plug/power')).length === 3, 10_000, 'the good readings');
    assert.deepEqual(await points(w.url, 'home/plug/power'), [
      [T0 + 1000, 1],
      [T0 + 3000, 3],
      [T0 + 5000, 5],
    ]);
    const metrics = (await w.request('/metrics')).body as string;
    assert.equal(metric(metrics, 'devices_mqtt_messages_total{format="json",outcome="malformed"}'), 2);
    assert.equal(metric(metrics, 'devices_mqtt_messages_total{format="json",outcome="stored"}'), 3);
    const dropped = logs
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((l) => l.msg === 'MQTT payload dropped');
    assert.equal(dropped.length, 1, 'the same topic and reason is logged once');
    assert.equal(dropped[0].topic, `${u.root}/plug`);
    assert.match(dropped[0].reason, /^the payload is not JSON/);
    assert.match(logs, /MQTT connected/);
    assert.doesNotMatch(logs, /never-logged-secret/);
  },
);

test(
  'a batch the store does not take is retried, never acknowledged, and delivered again after a restart',
  LIMIT,
  async (t) => {
    if (!(await needService(t, 'mosquitto'))) return;
    const u = unique();
    const subscriber = (write: DeviceSink['write']) => {
      const registry = new Registry();
      const settings = devicesSettings.parse({ mqtt: mqttSettings(u) }).mqtt;
      const stop = startMqttSubscriber({
        settings,
        zone: 'UTC',
        sink: { write },
        log: createLogger('silent'),
        registry,
        now: Date.now,
        connections: new Connections(),
      });
      const value = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
      return { stop, value };
    };
    let attempts = 0;
    const down = subscriber(async () => {
      attempts++;
      throw new Error('bus down');
    });
    await until(async () => (await down.value('devices_mqtt_subscribed')) === 1);
    const pub = await publisher(t);
    await pub.publishAsync(`${u.root}/m`, JSON.stringify({ series: 'home/m/power', value: 7, ts: T0 }), { qos: 1 });
    await until(() => attempts >= 3, 10_000, 'the write to be retried');
    assert.equal(await down.value('devices_mqtt_write_failures_total'), attempts);
    await down.stop();

    const written: DeviceReading[] = [];
    const up = subscriber(async (readings) => {
      written.push(...readings);
    });
    t.after(() => up.stop());
    forgetSession(t, u.clientId);
    await until(() => written.length === 1, 10_000, 'the message delivered again');
    assert.deepEqual(
      written.map((r) => [r.device, r.quantity, r.ts, r.value]),
      [['home/m', 'power', T0, 7]],
    );
  },
);

const SIGKILL_MODES = ['embedded', 'server'] as const;

for (const mode of SIGKILL_MODES)
  test(`${mode}: messages published with QoS 1 around a SIGKILL are each stored exactly once`, LIMIT, async (t) => {
    if (!(await needService(t, 'mosquitto'))) return;
    const env = mode === 'embedded' ? {} : await serverStack(t);
    if (!env) return;
    const u = unique();
    const children: ServeProcess[] = [];
    t.after(async () => {
      for (const c of children) c.child.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
    });
    forgetSession(t, u.clientId); // after the processes ended
    const dataDir = tempDir();
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const serveEnv = {
      ...env,
      WATTLINE_MQTT_URL: services.mosquitto.url,
      WATTLINE_MQTT_CLIENT_ID: u.clientId,
      WATTLINE_MQTT_BATCH_SIZE: '1',
      // two unacknowledged at a time: most of a burst waits at the broker, so a kill leaves some for the next process
      WATTLINE_MQTT_IN_FLIGHT: '2',
      WATTLINE_MQTT_SUBSCRIPTIONS: JSON.stringify([{ topic: `${u.root}/#`, format: 'json' }]),
    };
    const start = async () => {
      const s = await startServe(dataDir, { env: serveEnv });
      children.push(s);
      await until(
        async () => metric(await (await fetch(`${s.url}/metrics`)).text(), 'devices_mqtt_subscribed') === 1,
        30_000,
        'the subscriber to subscribe',
      );
      return s;
    };
    const pub = await publisher(t);
    const DEVICES = 5;
    const TOTAL = 2000;
    const CHUNK = 100;
    /** Message i: device i % 5 reports value i at T0 + i s. */
    const publishChunk = (from: number) =>
      Promise.all(
        Array.from({ length: CHUNK }, (_, k) => {
          const i = from + k;
          const series = `kill/dev${i % DEVICES}/energy`;
          return pub.publishAsync(
            `${u.root}/dev${i % DEVICES}`,
            JSON.stringify({ series, value: i, ts: T0 + i * 1000 }),
            {
              qos: 1,
            },
          );
        }),
      );
    const stored = async (url: string) => {
      const all = Array.from({ length: DEVICES }, (_, d) => `kill/dev${d}/energy`).join(',');
      const r = await fetch(`${url}/api/v1/query?series=${all}&start=${T0}&end=${T0 + TOTAL * 1000}`);
      const body = (await r.json()) as { results: { points: unknown[] }[] };
      return body.results.reduce((n, s) => n + s.points.length, 0);
    };
    // the broker keeps at most 1,000 queued messages per session (Mosquitto's max_queued_messages):
    // publishing keeps no more than a few chunks ahead of what is stored
    const paced = async (url: string, from: number, to: number) => {
      for (let i = from; i < to; i += CHUNK) {
        await publishChunk(i);
        const ahead = i - 2 * CHUNK;
        await until(async () => (await stored(url)) >= ahead, 30_000, `readings up to ${ahead}`);
      }
    };

    const first = await start();
    await paced(first.url, 0, 1000);
    await until(async () => (await stored(first.url)) === 1000, 30_000, 'the first 1,000 stored');
    // a burst of 600: the subscriber holds at most 2 (mqtt.inFlight) unacknowledged and writes one
    // at a time, the broker queues the rest; it is killed as soon as the burst starts landing
    await Promise.all([1000, 1100, 1200, 1300, 1400, 1500].map(publishChunk));
    await until(async () => (await stored(first.url)) > 1000, 30_000, 'the burst to start landing');
    first.child.kill('SIGKILL');
    await first.exited;
    await publishChunk(1600); // while it is down: the persistent session keeps them
    await publishChunk(1700);

    const second = await start();
    await paced(second.url, 1800, TOTAL);
    await until(async () => (await stored(second.url)) >= TOTAL, 30_000, 'every message stored');
    const secondMetrics = await (await fetch(`${second.url}/metrics`)).text();
    const taken = metric(secondMetrics, 'devices_mqtt_messages_total{format="json",outcome="stored"}');
    assert.ok(
      taken > 400,
      `the restarted process got the rest of the burst too, not only the 400 sent later: ${taken}`,
    );

    for (let d = 0; d < DEVICES; d++) {
      const got = await points(second.url, `kill/dev${d}/energy`);
      const expected = Array.from({ length: TOTAL / DEVICES }, (_, k) => k * DEVICES + d);
      assert.equal(got.length, expected.length, `dev${d}: each message once`);
      assert.equal(
        got.reduce((sum, [, v]) => sum + v, 0),
        expected.reduce((sum, v) => sum + v, 0),
        `dev${d}: the sum of its values`,
      );
      assert.deepEqual(
        got.map(([ts]) => ts),
        expected.map((i) => T0 + i * 1000),
      );
    }
  });

/** Server mode's environment: PostgreSQL in its own schema, NATS with its own streams (removed after). */
async function serverStack(t: TestContext): Promise<Record<string, string> | undefined> {
  if (!(await needService(t, 'postgres')) || !(await needService(t, 'nats'))) return undefined;
  const schema = uniqueSchema();
  const stream = `TEST_MQTT_${randomBytes(4).toString('hex').toUpperCase()}`;
  t.after(async () => {
    await dropSchema(schema);
    const admin = await connect({ servers: services.nats.url });
    const jsm = await admin.jetstreamManager();
    for await (const name of jsm.streams.names()) if (name.startsWith(`${stream}_`)) await jsm.streams.delete(name);
    await admin.close();
  });
  return {
    DATABASE_URL: services.postgres.url,
    WATTLINE_STORE_SCHEMA: schema,
    BUS_URL: services.nats.url,
    WATTLINE_BUS_STREAM: stream,
  };
}
