import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { build, buildMode, MODES, type TestApp, until } from './helpers.js';

const PASSWORD = 'pl4g-s3cret';

/** Recorded answers (fields trimmed) of a Shelly Plug S (Gen1), a Shelly Plus Plug S (Gen2) and a three-phase Tasmota meter. */
const GEN1_STATUS = {
  wifi_sta: { connected: true, ssid: 'home', ip: '192.168.1.31', rssi: -61 },
  time: '13:00',
  unixtime: 1717243200, // 2024-06-01T12:00:00Z
  serial: 1,
  relays: [{ ison: true, has_timer: false, overpower: false, source: 'http' }],
  // `timestamp` is the device's local time read as UTC (an hour ahead in BST): never used
  meters: [
    { power: 45.5, overpower: 0, is_valid: true, timestamp: 1717246800, counters: [45.1, 44.9, 45.3], total: 120000 },
  ],
  temperature: 32.1,
  uptime: 3600,
};
const GEN1_SHELLY = {
  type: 'SHPLG-S',
  mac: 'C45BBE000001',
  auth: false,
  fw: '20230913-114150/v1.14.0-gcb84623',
  num_outputs: 1,
  num_meters: 1,
};
const GEN2_SHELLY = {
  id: 'shellyplusplugs-aabbcc',
  mac: 'AABBCC',
  model: 'SNPL-00112EU',
  gen: 2,
  ver: '1.4.4',
  app: 'PlusPlugS',
  auth_en: true,
  auth_domain: 'shellyplusplugs-aabbcc',
};
const GEN2_STATUS = {
  sys: { mac: 'AABBCC', restart_required: false, time: '13:01', unixtime: 1717243260, uptime: 7200 },
  'switch:0': {
    id: 0,
    source: 'init',
    output: true,
    apower: 120.4,
    voltage: 231.2,
    current: 0.53,
    aenergy: { total: 4567.89, by_minute: [1990, 2001, 2000], minute_ts: 1717243260 },
    temperature: { tC: 40.1, tF: 104.2 },
  },
};
const TASMOTA_STATUS_10 = {
  StatusSNS: {
    Time: '2024-06-01T13:02:00', // local time (Europe/London, BST): 12:02Z
    ENERGY: {
      TotalStartTime: '2023-01-10T10:00:00',
      Total: 1234.567,
      Yesterday: 12.3,
      Today: 4.5,
      Power: [100, 200, 300],
      ApparentPower: [110, 210, 310],
      ReactivePower: [10, 20, 30],
      Factor: [0.91, 0.95, 0.97],
      Voltage: [230, 231, 229],
      Current: [0.43, 0.87, 1.31],
    },
  },
};

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A local HTTP server standing for a device; closed when the test ends. */
async function device(t: TestContext, handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r(undefined)));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: http.ServerResponse, body: unknown) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/**
 * A Gen2 device's digest check (RFC 7616 as Shelly documents it: user `admin`, SHA-256,
 * HA1 = SHA-256(admin:realm:password)); written here from the RFC, apart from Wattline's client.
 */
function gen2Device(password: string): Handler & { issued: Set<string>; accepted: number } {
  const realm = GEN2_SHELLY.auth_domain;
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const issued = new Set<string>();
  const handler = Object.assign(
    (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url === '/shelly') return json(res, GEN2_SHELLY); // never behind the password
      const auth = req.headers.authorization ?? '';
      const p = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
      const expected = sha(
        `${sha(`admin:${realm}:${password}`)}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${sha(`GET:${req.url}`)}`,
      );
      const ok =
        auth.startsWith('Digest ') &&
        p.username === 'admin' &&
        p.realm === realm &&
        p.uri === req.url &&
        p.qop === 'auth' &&
        issued.has(p.nonce) &&
        p.response === expected;
      if (!ok) {
        const nonce = randomBytes(8).toString('hex');
        issued.add(nonce);
        res.writeHead(401, {
          'www-authenticate': `Digest qop="auth", realm="${realm}", nonce="${nonce}", algorithm=SHA-256`,
        });
        return res.end();
      }
      issued.delete(p.nonce); // a nonce answers once
      handler.accepted++;
      if (req.url === '/rpc/Shelly.GetStatus') return json(res, GEN2_STATUS);
      res.writeHead(404).end();
    },
    { issued, accepted: 0 },
  );
  return handler;
}

/** Log lines the app wrote, to prove what they never hold. */
function logSink() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}

async function post(w: TestApp, body: unknown) {
  return w.request('/api/v1/devices', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const latest = async (w: TestApp, key: string) => (await w.request(`/api/v1/series/${key}/latest`)).body;

for (const mode of MODES)
  test(`${mode}: polled Shelly Gen1 (settings), Shelly Gen2 with digest auth and a three-phase Tasmota (API): readings with their units, kinds and device times; sensors; health; the password never answered nor logged`, async (t) => {
    const gen1 = await device(t, (req, res) => {
      if (req.url === '/shelly') return json(res, GEN1_SHELLY);
      if (req.url === '/status') return json(res, GEN1_STATUS);
      res.writeHead(404).end();
    });
    const gen2Handler = gen2Device(PASSWORD);
    const gen2 = await device(t, gen2Handler);
    let tasmotaQuery: URLSearchParams | undefined;
    const tasmota = await device(t, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      tasmotaQuery = url.searchParams;
      if (url.pathname === '/cm' && url.searchParams.get('cmnd') === 'Status 10') return json(res, TASMOTA_STATUS_10);
      res.writeHead(404).end();
    });
    const log = logSink();
    const w = await buildMode(
      t,
      mode,
      {
        logLevel: 'debug',
        'devices.poll': [{ id: 'plug-gen1', kind: 'shelly-gen1', url: gen1, interval_s: 1 }],
      },
      { logDestination: log.destination },
    );
    if (!w) return;

    // the Gen2 plug said to be Gen1: GET /shelly tells its generation
    const added = await post(w, { id: 'plug-gen2', kind: 'shelly-gen1', url: gen2, interval_s: 1, password: PASSWORD });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.id, 'devices/plug-gen2');
    const meter = { id: 'meter3', kind: 'tasmota', url: tasmota, interval_s: 1, password: PASSWORD };
    assert.equal((await post(w, { ...meter, timezone: 'Europe/London' })).status, 201);

    let devices: { poll: { last_success: string | null } | null }[] = [];
    await until(
      async () => {
        devices = (await w.request('/api/v1/devices')).body.devices;
        return devices.length === 3 && devices.every((d) => d.poll?.last_success);
      },
      10_000,
      () => `every device polled: ${JSON.stringify(devices)}`,
    );
    await until(async () => (await latest(w, 'devices/meter3/energy')).value !== undefined);

    // units and kinds in the catalog, under the quantity names the devices' MQTT payloads give
    // (formats/): power gauges in W, energy counters in Wh / kWh
    const { body: catalog } = await w.request('/api/v1/series?prefix=devices/');
    const entry = (key: string) => catalog.series.find((s: { key: string }) => s.key === key);
    assert.deepEqual(
      Object.fromEntries(
        [
          'devices/plug-gen1/relay0/power',
          'devices/plug-gen1/relay0/energy',
          'devices/plug-gen2/switch0/power',
          'devices/plug-gen2/switch0/energy',
          'devices/plug-gen2/switch0/voltage',
          'devices/meter3/power_l1',
          'devices/meter3/power',
          'devices/meter3/voltage_l2',
          'devices/meter3/energy',
          'devices/meter3/energy_today',
        ].map((k) => [k, entry(k) && `${entry(k).unit} ${entry(k).kind}`]),
      ),
      {
        'devices/plug-gen1/relay0/power': 'W gauge',
        'devices/plug-gen1/relay0/energy': 'Wh counter',
        'devices/plug-gen2/switch0/power': 'W gauge',
        'devices/plug-gen2/switch0/energy': 'Wh counter',
        'devices/plug-gen2/switch0/voltage': 'V gauge',
        'devices/meter3/power_l1': 'W gauge',
        'devices/meter3/power': 'W gauge',
        'devices/meter3/voltage_l2': 'V gauge',
        'devices/meter3/energy': 'kWh counter',
        'devices/meter3/energy_today': 'kWh counter',
      },
    );
    // Yesterday is not stored; the three phases' power is also the meter's total
    assert.equal(entry('devices/meter3/energy_yesterday'), undefined);
    assert.equal((await latest(w, 'devices/meter3/power')).value, 100 + 200 + 300);

    // values at the devices' own clocks: Gen1 `unixtime` (not the shifted meters[].timestamp),
    // Gen2 `sys.unixtime`, Tasmota's local `Time` in Europe/London
    assert.deepEqual(await latest(w, 'devices/plug-gen1/relay0/power'), {
      series: 'devices/plug-gen1/relay0/power',
      time: '2024-06-01T12:00:00.000Z',
      value: 45.5,
    });
    assert.equal((await latest(w, 'devices/plug-gen1/relay0/energy')).value, 2000, '120000 watt-minutes are 2000 Wh');
    assert.deepEqual(
      [
        (await latest(w, 'devices/plug-gen2/switch0/power')).time,
        (await latest(w, 'devices/plug-gen2/switch0/energy')).value,
      ],
      ['2024-06-01T12:01:00.000Z', 4567.89],
    );
    assert.deepEqual(
      [(await latest(w, 'devices/meter3/power_l3')).time, (await latest(w, 'devices/meter3/power_l3')).value],
      ['2024-06-01T12:02:00.000Z', 300],
    );
    assert.ok(gen2Handler.accepted > 0, 'the Gen2 device accepted the digest answer');
    assert.equal(tasmotaQuery?.get('password'), PASSWORD, "Tasmota's web password goes in its query");

    // each quantity is a sensor of the registry, with its type: only a device's own total power
    // and energy are power and energy sensors (phases and Today are generic: never counted twice)
    const { body: sensors } = await w.request('/api/v1/sensors/get?limit=1000');
    const sensor = (id: string) => sensors.sensors.find((s: { sensor_id: string }) => s.sensor_id === id);
    assert.deepEqual(
      [
        'devices_plug-gen1_relay0_energy',
        'devices_plug-gen2_switch0_power',
        'devices_meter3_power',
        'devices_meter3_power_l1',
        'devices_meter3_energy',
        'devices_meter3_energy_today',
      ].map((id) => sensor(id)?.sensor_type),
      ['energy', 'power', 'power', 'generic', 'energy', 'generic'],
    );

    // the registry: the generation found, polled from settings or the API, online while it answers
    const { body: one } = await w.request('/api/v1/devices/devices/plug-gen2');
    assert.equal(one.family, 'shelly-gen2');
    assert.equal(one.source, 'poll');
    assert.equal(one.online, true);
    assert.equal(one.poll.configured_in, 'api');
    assert.equal(one.poll.consecutive_failures, 0);
    assert.equal(one.poll.last_error, null);
    assert.ok(Date.parse(one.poll.next_poll) > Date.parse(one.poll.last_success));
    assert.equal((await w.request('/api/v1/devices/devices/plug-gen1')).body.poll.configured_in, 'settings');

    // the password: stored and used, never answered nor logged
    const answers = JSON.stringify([(await w.request('/api/v1/devices')).body, one]);
    assert.ok(!answers.includes(PASSWORD), 'GET answers never hold the password');
    assert.ok(!('password' in one.poll));
    assert.ok(log.lines.length > 0);
    assert.ok(!log.lines.join('').includes(PASSWORD), 'the logs never hold the password');

    // a settings device is changed in the settings, not through the API; an API one can be deleted
    assert.equal((await w.request('/api/v1/devices/devices/plug-gen1', { method: 'DELETE' })).status, 409);
    assert.equal((await w.request('/api/v1/devices/devices/meter3', { method: 'DELETE' })).status, 204);
    assert.equal((await w.request('/api/v1/devices/devices/meter3')).body.poll, null);
    assert.equal((await w.request('/api/v1/devices/devices/nothing')).status, 404);
  });

test('POST /api/v1/devices names the wrong field, replaces a device of the same id; reading needs a read key, adding a write key', async (t) => {
  const w = await build(t);
  const bad = await post(w, { id: 'x', kind: 'zigbee', url: 'http://127.0.0.1:1' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'kind');
  const creds = await post(w, { id: 'x', kind: 'tasmota', url: 'http://admin:pw@127.0.0.1:1' });
  assert.equal(creds.status, 400);
  assert.equal(creds.body.field, 'url');
  assert.equal(
    (await post(w, { id: 'x', kind: 'tasmota', url: 'http://127.0.0.1:1', interval_s: 0 })).body.field,
    'interval_s',
  );
  // the same id again replaces the device's settings (and a password never comes back)
  const url = 'http://127.0.0.1:1';
  assert.equal((await post(w, { id: 'x', kind: 'tasmota', url, interval_s: 60 })).status, 201);
  const replaced = await post(w, { id: 'x', kind: 'http-json', url: `${url}/state`, interval_s: 30, password: 'pw' });
  assert.equal(replaced.status, 200);
  assert.deepEqual(
    [replaced.body.poll.kind, replaced.body.poll.url, replaced.body.poll.interval_s, replaced.body.poll.password],
    ['http-json', `${url}/state`, 30, undefined],
  );
  const { body: readKey } = await w.request('/api/v1/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'read' }),
  });
  const asReader = await w.request('/api/v1/devices', {
    method: 'POST',
    headers: { authorization: `Bearer ${readKey.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'x', kind: 'tasmota', url: 'http://127.0.0.1:1' }),
  });
  assert.equal(asReader.status, 403);
  assert.equal(
    (await w.request('/api/v1/devices', { headers: { authorization: `Bearer ${readKey.key}` } })).status,
    200,
  );
});

for (const mode of MODES)
  test(`${mode}: a device that stops answering shows its error and failures, backs off without holding the others back, and recovers`, async (t) => {
    let hanging = true;
    const slow = await device(t, (_req, res) => {
      if (hanging) return; // no answer: the poll's timeout ends it
      json(res, { power_w: 75, energy_kwh: 12.5, ts: 1717243200 });
    });
    let healthyPolls = 0;
    const healthy = await device(t, (_req, res) => {
      healthyPolls++;
      json(res, { power_w: 10 });
    });
    const w = await buildMode(t, mode, {
      'devices.pollTimeoutMs': 200,
      'devices.pollMaxBackoffS': 2,
      'devices.pollConcurrency': 1,
    });
    if (!w) return;
    assert.equal((await post(w, { id: 'slow', kind: 'http-json', url: slow, interval_s: 1 })).status, 201);
    assert.equal((await post(w, { id: 'healthy', kind: 'http-json', url: healthy, interval_s: 1 })).status, 201);

    let seen: unknown;
    const health = async (id: string) => {
      seen = (await w.request(`/api/v1/devices/devices/${id}`)).body;
      return seen as ReturnType<typeof JSON.parse>;
    };
    await until(
      async () => (await health('slow')).poll.consecutive_failures >= 2,
      15_000,
      () => `two failures in a row: ${JSON.stringify(seen)}`,
    );
    const failing = await health('slow');
    assert.match(failing.poll.last_error.message, /no answer within 200 ms/);
    assert.equal(failing.poll.last_success, null);
    assert.equal(failing.online, false);
    // backed off: the next poll is its interval doubled per failure, capped at pollMaxBackoffS
    assert.equal(Date.parse(failing.poll.next_poll) - Date.parse(failing.poll.last_error.time), 2000);
    // the other device kept its own timer (with one poll at a time, the hung one held the slot 200 ms at most)
    const other = await health('healthy');
    assert.equal(other.poll.consecutive_failures, 0);
    assert.ok(healthyPolls >= 2, `the healthy device was polled ${healthyPolls} times meanwhile`);
    assert.equal((await latest(w, 'devices/healthy/power_w')).value, 10);

    hanging = false;
    await until(
      async () => (await health('slow')).poll.last_success !== null,
      15_000,
      () => `the device to recover: ${JSON.stringify(seen)}`,
    );
    const recovered = await health('slow');
    assert.equal(recovered.poll.consecutive_failures, 0);
    assert.equal(recovered.online, true);
    assert.ok(recovered.poll.last_error, 'the last error is kept after a success');
    // back to its interval
    assert.equal(Date.parse(recovered.poll.next_poll) - Date.parse(recovered.poll.last_success), 1000);
    await until(async () => (await latest(w, 'devices/slow/energy_kwh')).value === 12.5);
    const { body: catalog } = await w.request('/api/v1/series/devices/slow/energy_kwh');
    assert.deepEqual([catalog.unit, catalog.kind], ['kWh', 'counter']);
  });
