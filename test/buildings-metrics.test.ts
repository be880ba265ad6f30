import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addRoom, addSensor } from './buildings-fixtures.js';
import { build, buildMode, MODES, type TestApp, until } from './helpers.js';

const M = 60_000;
const H = 60 * M;
// 03:00 in Berlin (UTC+1 in January): local midnight is 23:00 UTC the day before
const NOW = Date.UTC(2026, 0, 15, 2, 0);

async function ingest(w: TestApp, lines: { series: string; ts: number; value: number }[]) {
  const r = await w.ingest(lines);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

const near = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

for (const mode of MODES) {
  test(`${mode}: a room's metrics by hand — power now, energy today since local midnight from a power sensor and a counter, averages of online sensors, occupancy summed; stored as rooms/<room>/<metric> readings`, async (t) => {
    let now = NOW;
    const w = await buildMode(t, mode, { timezone: 'Europe/Berlin' }, { now: () => now });
    if (!w) return;
    await addRoom(w, 'Meeting Room 2');
    await addRoom(w, 'Lab');
    for (const [id, type] of [
      ['p1', 'power'],
      ['e1', 'energy'],
      ['t1', 'temperature'],
      ['t2', 'temperature'],
      ['t3', 'temperature'],
      ['o1', 'occupancy'],
      ['o2', 'occupancy'],
    ] as const)
      await addSensor(w, id, type, 'Meeting Room 2');
    await addSensor(w, 'elsewhere', 'power', null); // in no room: in no room's metrics

    // p1: a constant 2 kW from 22:00 to 02:00 UTC, every 15 minutes → 3 h since local midnight = 6 kWh
    const power = [];
    for (let ts = NOW - 4 * H; ts <= NOW; ts += 15 * M) power.push({ series: 'sensors/p1', ts, value: 2000 });
    // e1: a kWh counter every 30 minutes; 101 at local midnight, 105 now → 4 kWh today;
    // its rate now: 104.5 at 01:30 → 105 at 02:00 is 0.5 kWh in half an hour = 1000 W
    const counter = [100, 100.5, 101, 101.5, 102.5, 103, 104, 104.5, 105].map((value, i) => ({
      series: 'sensors/e1',
      ts: NOW - 4 * H + i * 30 * M,
      value,
    }));
    await ingest(w, [
      ...power,
      ...counter,
      { series: 'sensors/elsewhere', ts: NOW - M, value: 9000 },
      { series: 'sensors/t1', ts: NOW - 5 * M, value: 20 },
      { series: 'sensors/t2', ts: NOW - 2 * M, value: 22 },
      { series: 'sensors/t3', ts: NOW - 2 * H, value: 30 }, // offline (15 min): left out of the mean
      { series: 'sensors/o1', ts: NOW - M, value: 3 },
      { series: 'sensors/o2', ts: NOW - M, value: 4 },
    ]);

    const broadcast: { type: string; room: string; metrics: Record<string, number | null>; at: string }[] = [];
    t.after(w.app.ctx.bus.subscribe('energy_data', (m: (typeof broadcast)[number]) => broadcast.push(m)));

    const r = await w.request('/api/v1/rooms/metrics', { method: 'POST' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const meeting = r.body.rooms.find((x: { room: string }) => x.room === 'Meeting Room 2');
    assert.equal(meeting.at, new Date(NOW).toISOString());
    near(meeting.metrics.energy_today_kwh, 6 + 4, 'energy today');
    near(meeting.metrics.power_w, 2000 + 1000, 'power now');
    near(meeting.metrics.temperature_c, 21, 'mean temperature');
    assert.equal(meeting.metrics.occupancy, 7);
    assert.equal(meeting.metrics.humidity_pct, null);
    assert.equal(meeting.metrics.co2_ppm, null);
    const lab = r.body.rooms.find((x: { room: string }) => x.room === 'Lab');
    assert.deepEqual(lab.metrics, {
      power_w: null,
      energy_today_kwh: null,
      temperature_c: null,
      humidity_pct: null,
      co2_ppm: null,
      occupancy: null,
    });
    assert.deepEqual(
      broadcast.find((m) => m.room === 'Meeting Room 2'),
      { type: 'room_metrics', ...meeting },
      'room_metrics on energy_data',
    );

    // stored as readings at the computation time, with their units
    const stored = async (metric: string) => {
      const q = await w.request(`/api/v1/query?series=rooms/Meeting_Room_2/${metric}&start=${NOW - H}&end=${NOW + H}`);
      assert.equal(q.status, 200, JSON.stringify(q.body));
      return q.body.results[0].points as { time: string; value: number }[];
    };
    await until(async () => (await stored('energy_today_kwh')).length === 1, 10_000, 'metrics stored');
    const [energy] = await stored('energy_today_kwh');
    assert.equal(Date.parse(energy.time), NOW);
    near(energy.value, 10, 'stored energy today');
    near((await stored('power_w'))[0].value, 3000, 'stored power');
    assert.equal((await stored('occupancy'))[0].value, 7);
    assert.deepEqual(await stored('humidity_pct'), [], 'no humidity sensor: nothing stored');
    const described = await w.request('/api/v1/series/rooms/Meeting_Room_2/power_w');
    assert.equal(described.body.unit, 'W');
    assert.equal(described.body.kind, 'gauge');
    assert.equal(
      (await w.request('/api/v1/series/rooms/Lab/power_w')).status,
      404,
      'a room without sensors stores none',
    );

    // an hour later: the counter counts since the same local midnight; p1, silent since 02:00, is offline
    now = NOW + H;
    await ingest(w, [{ series: 'sensors/e1', ts: now, value: 106 }]);
    const later = await w.request('/api/v1/rooms/metrics', { method: 'POST' });
    const again = later.body.rooms.find((x: { room: string }) => x.room === 'Meeting Room 2');
    near(again.metrics.energy_today_kwh, 6 + 5, 'energy today an hour later (p1 has no reading after 02:00)');
    assert.equal(again.metrics.power_w, 1000, 'p1 offline; e1 at 1 kWh in the last hour');
  });
}

test('sensors going offline and online are broadcast on sensor_events by the jobs schedule, with the injected clock', async (t) => {
  let now = NOW;
  const w = await build(t, { 'buildings.roomMetricsMs': 1000 }, undefined, { now: () => now });
  const events: { type: string; sensor_id: string; at: string }[] = [];
  t.after(w.app.ctx.bus.subscribe('sensor_events', (m: (typeof events)[number]) => events.push(m)));
  await addSensor(w, 'p1', 'power', null);
  await addSensor(w, 'quiet', 'power', null); // never reads: no event
  const seen = (type: string) => until(() => events.some((e) => e.type === type), 10_000, type);

  await ingest(w, [{ series: 'sensors/p1', ts: NOW - M, value: 100 }]);
  await seen('sensor_online');
  assert.deepEqual(events, [{ type: 'sensor_online', sensor_id: 'p1', at: new Date(NOW).toISOString() }]);

  now = NOW + 15 * M; // 16 minutes since the last reading: offline after 15
  now += M;
  await seen('sensor_offline');
  assert.deepEqual(events[1], { type: 'sensor_offline', sensor_id: 'p1', at: new Date(now).toISOString() });

  await ingest(w, [{ series: 'sensors/p1', ts: now, value: 100 }]);
  await until(() => events.length === 3, 10_000, 'back online');
  assert.deepEqual(events[2], { type: 'sensor_online', sensor_id: 'p1', at: new Date(now).toISOString() });
  assert.ok(!events.some((e) => e.sensor_id === 'quiet'));
});
