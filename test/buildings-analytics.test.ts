import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { addRoom, addSensor } from './buildings-fixtures.js';
import { build, buildMode, MODES, type TestApp } from './helpers.js';

const M = 60_000;
const H = 60 * M;
const NOW = Date.UTC(2026, 0, 15, 2, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Room A: p1 a constant 2 kW 22:00–02:00 UTC (8 kWh), p2 1 kW 01:00–02:00 (1 kWh);
 * room B: e1 a kWh counter every 30 min, 100 → 105 (5 kWh; 0.5 kWh in the last half hour = 1000 W);
 * no room: t1, a temperature. 17 + 5 + 9 + 1 = 32 readings.
 */
async function building(w: TestApp) {
  await addRoom(w, 'A');
  await addRoom(w, 'B');
  await addRoom(w, 'Empty');
  await addSensor(w, 'p1', 'power', 'A');
  await addSensor(w, 'p2', 'power', 'A');
  await addSensor(w, 'e1', 'energy', 'B');
  await addSensor(w, 't1', 'temperature', null);
  const lines = [];
  for (let ts = NOW - 4 * H; ts <= NOW; ts += 15 * M) lines.push({ series: 'sensors/p1', ts, value: 2000 });
  for (let ts = NOW - H; ts <= NOW; ts += 15 * M) lines.push({ series: 'sensors/p2', ts, value: 1000 });
  [100, 100.5, 101, 101.5, 102.5, 103, 104, 104.5, 105].forEach((value, i) => {
    lines.push({ series: 'sensors/e1', ts: NOW - 4 * H + i * 30 * M, value });
  });
  lines.push({ series: 'sensors/t1', ts: NOW - 5 * M, value: 20 });
  const r = await w.ingest(lines);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

const near = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

for (const mode of MODES) {
  test(`${mode}: /analytics/summary counts sensors and rooms, and sums energy, present power and peak power by hand`, async (t) => {
    const w = await buildMode(t, mode, {}, { now: () => NOW });
    if (!w) return;
    await building(w);
    const r = await w.request('/api/v1/analytics/summary?hours=24');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = r.body;
    assert.equal(s.total_sensors, 4);
    assert.equal(s.online_sensors, 4);
    assert.equal(s.total_rooms, 3);
    assert.equal(s.total_readings, 32);
    near(s.total_energy_kwh, 8 + 1 + 5, 'total energy');
    assert.equal(s.peak_power_w, 3000, 'p1 and p2 together from 01:00');
    assert.deepEqual(s.period, { start: iso(NOW - 24 * H), end: iso(NOW) });
    assert.deepEqual(s.by_type, [
      { sensor_type: 'energy', count: 1 },
      { sensor_type: 'power', count: 2 },
      { sensor_type: 'temperature', count: 1 },
    ]);
    const byRoom = Object.fromEntries(s.by_room.map((x: { room: string }) => [x.room, x]));
    near(byRoom.A.energy_kwh, 9, 'room A energy');
    assert.equal(byRoom.A.power_w, 3000);
    assert.equal(byRoom.A.sensors, 2);
    near(byRoom.B.energy_kwh, 5, 'room B energy');
    near(byRoom.B.power_w, 1000, 'room B power: the counter rate');
    assert.deepEqual(byRoom.Empty, { room: 'Empty', energy_kwh: 0, power_w: 0, sensors: 0 });

    // a shorter period: the last hour holds p1 2 kWh, p2 1 kWh, e1 1 kWh
    const hour = await w.request('/api/v1/analytics/summary?hours=1');
    near(hour.body.total_energy_kwh, 4, 'last hour');

    const bad = await w.request('/api/v1/analytics/summary?hours=-1');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'hours');
  });

  test(`${mode}: /analytics/energy gives kWh per bucket per room and in total, by hand`, async (t) => {
    const w = await buildMode(t, mode, {}, { now: () => NOW });
    if (!w) return;
    await building(w);
    const r = await w.request(`/api/v1/analytics/energy?start=${iso(NOW - 4 * H)}&end=${iso(NOW)}&window=1h&tz=UTC`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const values = (x: { points: { energy_kwh: number | null }[] }) => x.points.map((p) => p.energy_kwh);
    const rooms = Object.fromEntries(r.body.rooms.map((x: { room: string }) => [x.room, x]));
    assert.deepEqual(values(rooms.A), [2, 2, 2, 3]);
    assert.deepEqual(values(rooms.B), [1, 1.5, 1.5, 1]);
    assert.deepEqual(values(rooms.Empty), [null, null, null, null]);
    assert.deepEqual(values(r.body.total), [3, 3.5, 3.5, 4]);
    near(r.body.total.energy_kwh, 14, 'total');
    assert.equal(rooms.A.points[0].time, iso(NOW - 4 * H));

    const one = await w.request(`/api/v1/analytics/energy?start=${NOW - 4 * H}&end=${NOW}&room=B`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual(
      one.body.rooms.map((x: { room: string }) => x.room),
      ['B'],
    );
    near(one.body.total.energy_kwh, 5, 'room B alone');
  });
}

test('/analytics/energy: a bad parameter is a 400 naming it', async (t) => {
  const w = await build(t);
  const cases: [string, string][] = [
    ['end=2026-01-02', 'start'],
    ['start=2026-01-01&end=2026-01-02&window=2h', 'window'],
    ['start=2026-01-01&end=2026-01-02&tz=Mars/Olympus', 'tz'],
    ['start=2026-01-01&end=2026-01-02&room=Nowhere', 'room'],
    ['start=2026-01-02&end=2026-01-01', 'end'],
  ];
  for (const [query, field] of cases) {
    const r = await w.request(`/api/v1/analytics/energy?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.body.field, field, query);
  }
});

test('/overview names the modules, counts series, sensors, rooms and readings, and says the store, bus, uptime and version', async (t) => {
  let now = NOW;
  const w = await build(t, {}, undefined, { now: () => now });
  await building(w);
  now += 90_000;
  const r = await w.request('/api/v1/overview');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const o = r.body;
  const version = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  assert.equal(o.name, 'Wattline');
  assert.equal(o.version, version);
  for (const name of ['readings', 'ingest', 'buildings'])
    assert.deepEqual(
      o.modules.find((m: { name: string }) => m.name === name),
      { name, state: 'running' },
    );
  assert.deepEqual(o.counts, { series: 4, sensors: 4, rooms: 3, readings: 32 });
  assert.deepEqual(o.store, { kind: w.app.ctx.store.kind, status: 'ok' });
  assert.deepEqual(o.bus, { kind: 'in-process', status: 'ok' });
  assert.equal(o.uptime_s, 90);
  assert.deepEqual(o.roles, ['ingest', 'persist', 'api', 'jobs']);
});

test('/rooms and the summary show a room or sensor changed over the API at once, though they keep the registry between requests', async (t) => {
  const w = await build(t);
  const post = (path: string, body: unknown) =>
    w.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const roomsNow = async () =>
    (await w.request('/api/v1/rooms')).body.rooms as { name: string; sensor_count: number }[];
  const summaryNow = async () => (await w.request('/api/v1/analytics/summary')).body;
  assert.deepEqual(await roomsNow(), []);
  assert.equal((await summaryNow()).total_sensors, 0);

  const created = await post('/api/v1/rooms', { name: 'Kitchen' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(
    (await roomsNow()).map((r) => [r.name, r.sensor_count]),
    [['Kitchen', 0]],
  );
  assert.equal(
    (await post('/api/v1/sensors', { sensor_id: 'k1', name: 'Kettle', sensor_type: 'power', room: 'Kitchen' })).status,
    201,
  );
  assert.deepEqual(
    (await roomsNow()).map((r) => [r.name, r.sensor_count]),
    [['Kitchen', 1]],
  );
  const summary = await summaryNow();
  assert.equal(summary.total_sensors, 1);
  assert.equal(summary.total_rooms, 1);
  assert.equal((await w.request('/api/v1/rooms/Kitchen', { method: 'DELETE' })).status, 204);
  assert.deepEqual(await roomsNow(), []);
  assert.equal((await summaryNow()).by_room.length, 0);
});
