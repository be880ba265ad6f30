import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SENSOR_EVENTS, type SensorEvent } from '../src/modules/buildings/events.js';
import { build, buildMode, MODES, type TestApp } from './helpers.js';

const T0 = Date.UTC(2024, 0, 1, 12);
const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function createKey(w: TestApp, scope: 'read' | 'write' | 'admin'): Promise<string> {
  const r = await w.request('/api/v1/keys', json('POST', { scope }));
  assert.equal(r.status, 201);
  return r.body.key;
}

/** The events published on `sensor_events` from now on. */
function sensorEvents(w: TestApp): SensorEvent[] {
  const seen: SensorEvent[] = [];
  w.app.ctx.bus.subscribe<SensorEvent>(SENSOR_EVENTS, (e) => seen.push(e));
  return seen;
}

for (const mode of MODES) {
  test(`${mode}: sensors are added, read, listed, changed and removed; their series carry the type's unit and kind; readings stay`, async (t) => {
    const w = await buildMode(t, mode, {}, { now: () => T0 });
    if (!w) return;
    const events = sensorEvents(w);
    assert.equal((await w.request('/api/v1/rooms', json('POST', { name: 'Meeting Room 2', floor: 1 }))).status, 201);

    const created = await w.request(
      '/api/v1/sensors',
      json('POST', { sensor_id: 'p1', name: 'Desk power', sensor_type: 'power', room: 'Meeting Room 2' }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      { ...created.body, created_at: undefined, updated_at: undefined },
      {
        sensor_id: 'p1',
        name: 'Desk power',
        sensor_type: 'power',
        room: 'Meeting Room 2',
        series: 'sensors/p1',
        unit: 'W',
        kind: 'gauge',
        tags: {},
        status: 'never',
        last_seen: null,
        last_value: null,
        created_at: undefined,
        updated_at: undefined,
      },
    );
    const series = await w.request('/api/v1/series/sensors/p1');
    assert.deepEqual([series.body.unit, series.body.kind], ['W', 'gauge'], 'the catalog has the unit and kind');

    const meter = await w.request(
      '/api/v1/sensors',
      json('POST', { sensor_id: 'e1', name: 'Meter', sensor_type: 'energy', series: 'meters/main', tags: { a: 'b' } }),
    );
    assert.equal(meter.status, 201);
    assert.deepEqual(
      [meter.body.series, meter.body.unit, meter.body.kind, meter.body.room],
      ['meters/main', 'kWh', 'counter', null],
    );
    const custom = await w.request(
      '/api/v1/sensors',
      json('POST', { sensor_id: 't1', name: 'Temp', sensor_type: 'generic', unit: '°C', kind: 'gauge' }),
    );
    assert.deepEqual([custom.status, custom.body.unit], [201, '°C']);

    // a series ingest created without a unit gets the type's; a new type brings its own
    await w.ingest([{ series: 'legacy/meter', ts: T0 - 5000, value: 100 }]);
    const adopted = await w.request(
      '/api/v1/sensors',
      json('POST', { sensor_id: 'm1', name: 'Old meter', sensor_type: 'energy', series: 'legacy/meter' }),
    );
    assert.deepEqual(
      [adopted.status, adopted.body.unit, adopted.body.kind, adopted.body.last_value],
      [201, 'kWh', 'counter', 100],
    );
    const retyped = await w.request('/api/v1/sensors/t1', json('PUT', { sensor_type: 'humidity' }));
    assert.deepEqual([retyped.body.sensor_type, retyped.body.unit], ['humidity', '%']);
    assert.equal((await w.request('/api/v1/sensors/m1', { method: 'DELETE' })).status, 204);

    const again = await w.request(
      '/api/v1/sensors',
      json('POST', { sensor_id: 'p1', name: 'x', sensor_type: 'power' }),
    );
    assert.equal(again.status, 409);

    for (const [body, field] of [
      [{ sensor_id: '-bad id', name: 'x', sensor_type: 'power' }, 'sensor_id'],
      [{ sensor_id: 'x1', name: 'x', sensor_type: 'laser' }, 'sensor_type'],
      [{ sensor_id: 'x1', name: 'x', sensor_type: 'power', room: 'Nowhere' }, 'room'],
      [{ sensor_id: 'x1', name: 'x', sensor_type: 'power', unit: 'furlongs' }, 'unit'],
      [{ sensor_id: 'x1', name: 'x', sensor_type: 'power', kind: 'bogus' }, 'kind'],
      [{ sensor_id: 'x1', name: 'x', sensor_type: 'power', kind: 'counter' }, 'kind'],
      [{ sensor_id: 'x1', sensor_type: 'power' }, 'name'],
      [{ sensor_id: 'x1', name: 'x', sensor_type: 'power', colour: 'red' }, 'colour'],
    ] as const) {
      const r = await w.request('/api/v1/sensors', json('POST', body));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.field, field, JSON.stringify(r.body));
    }
    assert.equal((await w.request('/api/v1/sensors/x1')).status, 404, 'a refused sensor is not added');

    const one = await w.request('/api/v1/sensors/p1');
    assert.deepEqual([one.status, one.body.name], [200, 'Desk power']);
    const unknown = await w.request('/api/v1/sensors/nope');
    assert.deepEqual([unknown.status, unknown.body.field], [404, 'sensor_id']);

    const list = await w.request('/api/v1/sensors/get');
    assert.deepEqual(
      [list.body.count, list.body.sensors.map((s: { sensor_id: string }) => s.sensor_id)],
      [3, ['e1', 'p1', 't1']],
    );
    const inRoom = await w.request(`/api/v1/sensors/get?room=${encodeURIComponent('Meeting Room 2')}`);
    assert.deepEqual(
      inRoom.body.sensors.map((s: { sensor_id: string }) => s.sensor_id),
      ['p1'],
    );
    const energy = await w.request('/api/v1/sensors/get?sensor_type=energy');
    assert.deepEqual(
      energy.body.sensors.map((s: { sensor_id: string }) => s.sensor_id),
      ['e1'],
    );
    const page = await w.request('/api/v1/sensors/get?limit=1&offset=1');
    assert.deepEqual([page.body.count, page.body.sensors.map((s: { sensor_id: string }) => s.sensor_id)], [3, ['p1']]);
    for (const [query, field] of [
      ['sensor_type=laser', 'sensor_type'],
      ['status=sleeping', 'status'],
      ['limit=0', 'limit'],
      ['offset=-1', 'offset'],
    ]) {
      const r = await w.request(`/api/v1/sensors/get?${query}`);
      assert.deepEqual([r.status, r.body.field], [400, field], query);
    }

    const moved = await w.request(
      '/api/v1/sensors/p1',
      json('PUT', { room: null, series: 'meters/desk', name: 'Desk' }),
    );
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(
      [moved.body.room, moved.body.series, moved.body.name, moved.body.sensor_type, moved.body.unit],
      [null, 'meters/desk', 'Desk', 'power', 'W'],
    );
    assert.equal((await w.request('/api/v1/sensors/p1', json('PUT', { room: 'Nowhere' }))).body.field, 'room');
    assert.equal(
      (await w.request('/api/v1/sensors/p1', json('PUT', { sensor_type: 'laser' }))).body.field,
      'sensor_type',
    );
    assert.equal((await w.request('/api/v1/sensors/nope', json('PUT', { name: 'x' }))).status, 404);
    assert.equal((await w.request('/api/v1/sensors/p1')).body.name, 'Desk');

    assert.equal((await w.ingest([{ series: 'meters/desk', ts: T0 - 1000, value: 42 }])).status, 200);
    const removed = await w.request('/api/v1/sensors/p1', { method: 'DELETE' });
    assert.equal(removed.status, 204);
    assert.equal((await w.request('/api/v1/sensors/p1')).status, 404);
    assert.equal((await w.request('/api/v1/sensors/p1', { method: 'DELETE' })).status, 404);
    const kept = await w.request('/api/v1/series/meters/desk/latest');
    assert.deepEqual([kept.status, kept.body.value], [200, 42], 'the readings stay');

    assert.deepEqual(
      events.map((e) => [e.type, e.sensor_id, 'sensor' in e ? e.sensor.sensor_id : null, e.at]),
      [
        ['sensor_created', 'p1', 'p1', new Date(T0).toISOString()],
        ['sensor_created', 'e1', 'e1', new Date(T0).toISOString()],
        ['sensor_created', 't1', 't1', new Date(T0).toISOString()],
        ['sensor_created', 'm1', 'm1', new Date(T0).toISOString()],
        ['sensor_updated', 't1', 't1', new Date(T0).toISOString()],
        ['sensor_deleted', 'm1', 'm1', new Date(T0).toISOString()],
        ['sensor_updated', 'p1', 'p1', new Date(T0).toISOString()],
        ['sensor_deleted', 'p1', 'p1', new Date(T0).toISOString()],
      ],
    );
  });
}

test('a sensor is never seen, then online after a reading, then offline once buildings.offlineAfterMs has passed on the clock', async (t) => {
  let now = T0;
  const w = await build(t, { 'buildings.offlineAfterMs': 60_000 }, undefined, { now: () => now });
  await w.request('/api/v1/sensors', json('POST', { sensor_id: 'p1', name: 'p', sensor_type: 'power' }));
  assert.equal((await w.request('/api/v1/sensors/p1')).body.status, 'never');

  assert.equal((await w.ingest([{ series: 'sensors/p1', ts: T0 - 1000, value: 230 }])).status, 200);
  const online = await w.request('/api/v1/sensors/p1');
  assert.deepEqual(
    [online.body.status, online.body.last_value, online.body.last_seen],
    ['online', 230, new Date(T0 - 1000).toISOString()],
  );
  assert.equal((await w.request('/api/v1/sensors/get?status=online')).body.count, 1);

  now = T0 - 1000 + 60_001;
  assert.equal((await w.request('/api/v1/sensors/p1')).body.status, 'offline');
  const offline = await w.request('/api/v1/sensors/get?status=offline');
  assert.deepEqual([offline.body.count, offline.body.sensors[0].sensor_id], [1, 'p1']);
  assert.equal((await w.request('/api/v1/sensors/get?status=online')).body.count, 0);
});

for (const mode of MODES) {
  test(`${mode}: rooms are added, listed with their sensor count and latest metrics, changed and removed, their sensors left unassigned`, async (t) => {
    const w = await buildMode(t, mode, {}, { now: () => T0 });
    if (!w) return;
    const added = await w.request('/api/v1/rooms', json('POST', { name: 'Meeting Room 2', floor: 1, area_m2: 20.5 }));
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(
      [added.body.name, added.body.floor, added.body.area_m2, added.body.sensor_count],
      ['Meeting Room 2', 1, 20.5, 0],
    );
    assert.equal((await w.request('/api/v1/rooms', json('POST', { name: 'Lobby' }))).status, 201);
    assert.equal((await w.request('/api/v1/rooms', json('POST', { name: 'Lobby' }))).status, 409);
    for (const [body, field] of [
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ name: 'A', floor: 1.5 }, 'floor'],
      [{ name: 'A', area_m2: 0 }, 'area_m2'],
      [{ floor: 1 }, 'name'],
    ] as const) {
      const r = await w.request('/api/v1/rooms', json('POST', body));
      assert.deepEqual([r.status, r.body.field], [400, field], JSON.stringify(body));
    }

    await w.request(
      '/api/v1/sensors',
      json('POST', { sensor_id: 'p1', name: 'p', sensor_type: 'power', room: 'Meeting Room 2' }),
    );
    await w.request(
      '/api/v1/sensors',
      json('POST', { sensor_id: 't1', name: 't', sensor_type: 'temperature', room: 'Meeting Room 2' }),
    );
    await w.ingest([
      { series: 'sensors/p1', ts: T0 - 1000, value: 5 },
      { series: 'rooms/Meeting_Room_2/power_w', ts: T0 - 60_000, value: 1500 },
      { series: 'rooms/Meeting_Room_2/temperature_c', ts: T0 - 30_000, value: 21.5 },
    ]);

    const rooms = await w.request('/api/v1/rooms');
    assert.equal(rooms.status, 200);
    const [lobby, meeting] = rooms.body.rooms;
    assert.deepEqual(
      [lobby.name, lobby.sensor_count, lobby.metrics.power_w, lobby.metrics.computed_at],
      ['Lobby', 0, null, null],
    );
    assert.deepEqual(meeting.metrics, {
      power_w: 1500,
      energy_today_kwh: null,
      temperature_c: 21.5,
      humidity_pct: null,
      co2_ppm: null,
      occupancy: null,
      computed_at: new Date(T0 - 30_000).toISOString(),
    });
    assert.equal(meeting.sensor_count, 2);
    assert.deepEqual((await w.request('/api/v1/rooms/names')).body, { rooms: ['Lobby', 'Meeting Room 2'] });

    const one = await w.request(`/api/v1/rooms/${encodeURIComponent('Meeting Room 2')}`);
    assert.deepEqual([one.status, one.body.sensor_count], [200, 2]);
    assert.equal((await w.request('/api/v1/rooms/Attic')).status, 404);

    const changed = await w.request(
      `/api/v1/rooms/${encodeURIComponent('Meeting Room 2')}`,
      json('PUT', { floor: 2, description: 'by the stairs' }),
    );
    assert.deepEqual(
      [changed.status, changed.body.floor, changed.body.area_m2, changed.body.description],
      [200, 2, 20.5, 'by the stairs'],
    );
    assert.equal((await w.request('/api/v1/rooms/Lobby', json('PUT', { area_m2: -1 }))).body.field, 'area_m2');
    assert.equal((await w.request('/api/v1/rooms/Attic', json('PUT', { floor: 1 }))).status, 404);

    assert.equal(
      (await w.request(`/api/v1/rooms/${encodeURIComponent('Meeting Room 2')}`, { method: 'DELETE' })).status,
      204,
    );
    assert.equal(
      (await w.request(`/api/v1/rooms/${encodeURIComponent('Meeting Room 2')}`, { method: 'DELETE' })).status,
      404,
    );
    assert.deepEqual((await w.request('/api/v1/rooms/names')).body, { rooms: ['Lobby'] });
    const p1 = await w.request('/api/v1/sensors/p1');
    assert.deepEqual(
      [p1.status, p1.body.room, p1.body.last_value],
      [200, null, 5],
      'the sensor stays, unassigned, with its readings',
    );
  });
}

test('writing sensors and rooms needs a write key; reading them a read key when reads need one', async (t) => {
  const w = await build(t, { requireReadKey: true });
  const read = await createKey(w, 'read');
  const write = await createKey(w, 'write');
  const sensor = { sensor_id: 'p1', name: 'p', sensor_type: 'power' };
  assert.equal(
    (
      await w.request('/api/v1/sensors', {
        ...json('POST', sensor),
        headers: { 'content-type': 'application/json', ...bearer(read) },
      })
    ).status,
    403,
  );
  assert.equal(
    (
      await w.request('/api/v1/sensors', {
        ...json('POST', sensor),
        headers: { 'content-type': 'application/json', ...bearer(write) },
      })
    ).status,
    201,
  );
  assert.equal((await w.request('/api/v1/sensors/p1', { headers: { authorization: '' } })).status, 401);
  assert.equal((await w.request('/api/v1/sensors/p1', { headers: bearer(read) })).status, 200);
  assert.equal(
    (
      await w.request('/api/v1/rooms', {
        ...json('POST', { name: 'A' }),
        headers: { 'content-type': 'application/json', ...bearer(read) },
      })
    ).status,
    403,
  );
  assert.equal((await w.request('/api/v1/rooms', { headers: bearer(read) })).status, 200);
  assert.equal((await w.request('/api/v1/sensors/p1', { method: 'DELETE', headers: bearer(read) })).status, 403);
});

for (const mode of MODES) {
  test(`${mode}: DELETE /api/v1/sensors/{id}?purge=true needs an admin key and removes the sensor's readings and series, nothing else`, async (t) => {
    const w = await buildMode(t, mode, {}, { now: () => T0 });
    if (!w) return;
    const write = await createKey(w, 'write');
    for (const id of ['p1', 'p2'])
      await w.request('/api/v1/sensors', json('POST', { sensor_id: id, name: id, sensor_type: 'power' }));
    await w.ingest([
      { series: 'sensors/p1', ts: T0 - 2000, value: 1 },
      { series: 'sensors/p1', ts: T0 - 1000, value: 2 },
      { series: 'sensors/p2', ts: T0 - 1000, value: 3 },
    ]);
    const query = `/api/v1/query?series=sensors/p1,sensors/p2&start=${T0 - 10_000}&end=${T0}`;
    assert.deepEqual(
      (await w.request(query)).body.results.map((r: { points: unknown[] }) => r.points.length),
      [2, 1],
    );

    const refused = await w.request('/api/v1/sensors/p1?purge=true', { method: 'DELETE', headers: bearer(write) });
    assert.equal(refused.status, 403);
    assert.equal((await w.request('/api/v1/sensors/p1')).status, 200, 'a refused purge removes nothing');
    assert.equal((await w.request('/api/v1/sensors/p1?purge=true', { method: 'DELETE' })).status, 204);

    assert.equal((await w.request('/api/v1/sensors/p1')).status, 404);
    assert.equal((await w.request('/api/v1/series/sensors/p1')).status, 404, 'the series is gone');
    assert.deepEqual(
      (await w.request(query)).body.results.map((r: { points: unknown[] }) => r.points.length),
      [0, 1],
      "its readings are gone, the other sensor's stay",
    );
    // the id and series can be used again, from nothing
    await w.request('/api/v1/sensors', json('POST', { sensor_id: 'p1', name: 'again', sensor_type: 'power' }));
    const again = await w.request('/api/v1/sensors/p1');
    assert.deepEqual([again.body.status, again.body.unit], ['never', 'W']);
    await w.ingest([{ series: 'sensors/p1', ts: T0 - 500, value: 9 }]);
    assert.deepEqual(
      (await w.request(query)).body.results[0].points.map((p: { value: number }) => p.value),
      [9],
    );
  });
}
