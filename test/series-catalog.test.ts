import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODES, type TestApp, buildMode } from './helpers.js';

const T0 = Date.UTC(2024, 5, 1);

const put = (w: TestApp, key: string, body: unknown, headers: Record<string, string> = {}) =>
  w.request(`/api/v1/series/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

for (const mode of MODES) {
  test(`PUT /api/v1/series/{key} creates or updates a series' unit, kind, description and interval; GET and the listing show them (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const created = await put(w, 'home/meter/usage', {
      unit: 'kWh',
      kind: 'interval',
      description: 'Half-hourly import from the smart meter',
      interval_s: 1800,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body, {
      key: 'home/meter/usage',
      unit: 'kWh',
      kind: 'interval',
      description: 'Half-hourly import from the smart meter',
      interval_s: 1800,
      firstTime: null,
      lastTime: null,
      count: 0,
      tags: null,
    });

    // absent fields stay as they are, null clears
    const updated = await put(w, 'home/meter/usage', { description: null, unit: 'Wh' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(
      [updated.body.unit, updated.body.kind, updated.body.description, updated.body.interval_s],
      ['Wh', 'interval', null, 1800],
    );

    // a series that already has readings keeps them
    assert.equal((await w.ingest([{ series: 'room/temp', ts: T0, value: 21.5 }])).status, 200);
    const described = await put(w, 'room/temp', { unit: '°C', description: 'Living room' });
    assert.equal(described.status, 200, JSON.stringify(described.body));
    const entry = await w.request('/api/v1/series/room/temp');
    assert.equal(entry.status, 200, JSON.stringify(entry.body));
    assert.deepEqual(entry.body, {
      key: 'room/temp',
      unit: '°C',
      kind: 'gauge',
      description: 'Living room',
      interval_s: null,
      firstTime: new Date(T0).toISOString(),
      lastTime: new Date(T0).toISOString(),
      count: 1,
      tags: null,
    });
    const cleared = await put(w, 'room/temp', { unit: null });
    assert.deepEqual([cleared.status, cleared.body.unit, cleared.body.description], [200, null, 'Living room']);

    // the latest value is still where it was
    const latest = await w.request('/api/v1/series/room/temp/latest');
    assert.deepEqual(latest.body, { series: 'room/temp', time: new Date(T0).toISOString(), value: 21.5 });

    const list = await w.request('/api/v1/series?prefix=home/');
    assert.deepEqual(list.body.series, [
      {
        key: 'home/meter/usage',
        unit: 'Wh',
        kind: 'interval',
        description: null,
        interval_s: 1800,
        firstTime: null,
        lastTime: null,
        count: 0,
        tags: null,
      },
    ]);
    const unknown = await w.request('/api/v1/series/no/such/series');
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
  });
}

test('PUT /api/v1/series/{key} refuses bad descriptions with a 400 naming the field, and changes nothing', async (t) => {
  const w = await buildMode(t, 'embedded');
  if (!w) return;
  assert.equal((await put(w, 'plug/power', { unit: 'W', kind: 'gauge' })).status, 201);
  assert.equal((await put(w, 'meter/total', { unit: 'kWh', kind: 'counter' })).status, 201);
  for (const [key, body, field, words] of [
    ['plug/power', { unit: 'horsepower' }, 'unit', /unit "horsepower".*W, kW/],
    ['plug/power', { kind: 'rate' }, 'kind', /gauge, counter, interval/],
    ['plug/power', { kind: null }, 'kind', /kind/],
    ['plug/power', { kind: 'counter' }, 'kind', /counter.*energy unit.*Wh, kWh, MWh.*W/],
    ['meter/total', { unit: 'W' }, 'unit', /counter.*energy unit.*Wh, kWh, MWh/],
    ['meter/total', { unit: null }, 'unit', /counter.*energy unit/],
    ['new/one', { kind: 'interval' }, 'kind', /interval.*energy unit/],
    ['plug/power', { description: 'x'.repeat(501) }, 'description', /500/],
    ['plug/power', { interval_s: 0 }, 'interval_s', /1.*2678400/],
    ['plug/power', { interval_s: 1.5 }, 'interval_s', /whole/],
    ['plug/power', { interval_s: 2_678_401 }, 'interval_s', /2678400/],
    ['plug/power', { interval_s: '1800' }, 'interval_s', /./],
    ['plug/power', { units: 'W' }, 'units', /unknown field "units"/],
    ['bad key!', { unit: 'W' }, 'key', /key/],
  ] as const) {
    const r = await put(w, encodeURIComponent(key).replaceAll('%2F', '/'), body);
    assert.equal(r.status, 400, `${key} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.field, field, JSON.stringify(r.body));
    assert.match(r.body.error, words, JSON.stringify(r.body));
  }
  const power = await w.request('/api/v1/series/plug/power');
  assert.deepEqual([power.body.unit, power.body.kind, power.body.interval_s], ['W', 'gauge', null]);
  assert.equal((await w.request('/api/v1/series/new/one')).status, 404, 'a refused PUT creates nothing');

  // a description in the maximum length, a whole month as interval: fine
  const edge = await put(w, 'plug/power', { description: 'x'.repeat(500), interval_s: 2_678_400 });
  assert.equal(edge.status, 200, JSON.stringify(edge.body));
});

test('PUT /api/v1/series/{key} needs a write key', async (t) => {
  const w = await buildMode(t, 'embedded');
  if (!w) return;
  const made = await w.request('/api/v1/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'read' }),
  });
  const r = await put(w, 'plug/power', { unit: 'W' }, { authorization: `Bearer ${made.body.key}` });
  assert.equal(r.status, 403);
  assert.equal(r.body.error, 'this key has scope read; write is needed');
});
