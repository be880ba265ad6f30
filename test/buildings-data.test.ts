import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMode, MODES, type TestApp } from './helpers.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);
const NOW = T0 + 40 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

interface Row {
  sensor_id: string;
  timestamp: string;
  value: number;
}

/**
 * Sensor a: a reading a minute for 3 hours from T0; sensor b: one every 7 minutes for 30 days
 * from T0 (a few share a's times). Returns every reading, newest first, ties in the order a, b.
 */
async function seeded(w: TestApp): Promise<Row[]> {
  for (const id of ['a', 'b'])
    assert.equal(
      (await w.request('/api/v1/sensors', json('POST', { sensor_id: id, name: id, sensor_type: 'power' }))).status,
      201,
    );
  const rows: Row[] = [];
  const lines: object[] = [];
  for (let i = 0; i < 180; i++) rows.push({ sensor_id: 'a', timestamp: iso(T0 + i * MIN), value: i });
  for (let t = T0, i = 0; t < T0 + 30 * DAY; t += 7 * MIN, i++)
    rows.push({ sensor_id: 'b', timestamp: iso(t), value: 1000 + i });
  for (const r of rows) lines.push({ series: `sensors/${r.sensor_id}`, ts: Date.parse(r.timestamp), value: r.value });
  const sent = await w.ingest(lines);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return rows.sort((x, y) => y.timestamp.localeCompare(x.timestamp) || x.sensor_id.localeCompare(y.sensor_id));
}

for (const mode of MODES) {
  test(`${mode}: POST /api/v1/data/query pages through several sensors newest first, total_count counting every match`, async (t) => {
    const w = await buildMode(t, mode, {}, { now: () => NOW });
    if (!w) return;
    const all = await seeded(w);
    const query = (body: object) => w.request('/api/v1/data/query', json('POST', body));
    const range = { start_time: iso(T0), end_time: iso(T0 + 31 * DAY) };

    const first = await query({ sensor_ids: ['a', 'b'], ...range, limit: 50 });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(
      { ...first.body, data: first.body.data.length },
      { data: 50, total_count: all.length, limit: 50, offset: 0 },
    );
    assert.deepEqual(first.body.data, all.slice(0, 50));

    // page by page, the pages are the whole, in order, each reading once
    const paged: Row[] = [];
    for (let offset = 0; offset < all.length; offset += 1000) {
      const r = await query({ sensor_ids: ['a', 'b'], ...range, limit: 1000, offset });
      assert.equal(r.body.total_count, all.length);
      paged.push(...r.body.data);
    }
    assert.deepEqual(paged, all);
    const whole = await query({ sensor_ids: ['a', 'b'], ...range, limit: 10_000 });
    assert.deepEqual(whole.body.data, all);

    // the range is inclusive at both ends; one sensor alone
    const hour = await query({
      sensor_ids: ['a'],
      start_time: T0 + 60 * MIN,
      end_time: T0 + 119 * MIN,
      limit: 10,
      offset: 55,
    });
    assert.deepEqual([hour.body.total_count, hour.body.data.map((r: Row) => r.value)], [60, [64, 63, 62, 61, 60]]);
    const past = await query({ sensor_ids: ['a', 'b'], ...range, offset: all.length });
    assert.deepEqual([past.body.data, past.body.total_count], [[], all.length]);
    const before = await query({ sensor_ids: ['a'], start_time: T0 - DAY, end_time: T0 - 1 });
    assert.deepEqual([before.body.data, before.body.total_count], [[], 0]);
  });
}

test('POST /api/v1/data/query: bad bodies are 400 naming the field, unknown sensors 404', async (t) => {
  const w = (await buildMode(t, 'embedded', {}, { now: () => NOW }))!;
  await seeded(w);
  for (const [body, field] of [
    [{}, 'sensor_ids'],
    [{ sensor_ids: [] }, 'sensor_ids'],
    [{ sensor_ids: 'a' }, 'sensor_ids'],
    [{ sensor_ids: ['a'], limit: 10_001 }, 'limit'],
    [{ sensor_ids: ['a'], limit: 0 }, 'limit'],
    [{ sensor_ids: ['a'], offset: -1 }, 'offset'],
    [{ sensor_ids: ['a'], start_time: 'yesterday' }, 'start_time'],
    [{ sensor_ids: ['a'], end_time: '2024-02-30T00:00:00Z' }, 'end_time'],
    [{ sensor_ids: ['a'], start_time: iso(T0 + 1), end_time: iso(T0) }, 'start_time'],
    [{ sensor_ids: ['a'], page: 2 }, 'page'],
  ] as const) {
    const r = await w.request('/api/v1/data/query', json('POST', body));
    assert.deepEqual([r.status, r.body.field], [400, field], `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
  }
  const unknown = await w.request('/api/v1/data/query', json('POST', { sensor_ids: ['a', 'zz'] }));
  assert.deepEqual([unknown.status, unknown.body.field], [404, 'sensor_ids']);
  assert.match(unknown.body.error, /zz/);
});

for (const mode of MODES) {
  test(`${mode}: a sensor's readings: posted as one or a list (bad items named, good ones kept), read newest first or in buckets`, async (t) => {
    const w = await buildMode(t, mode, {}, { now: () => NOW });
    if (!w) return;
    await seeded(w);
    const post = (id: string, body: unknown) => w.request(`/api/v1/sensors/${id}/data`, json('POST', body));
    await w.request('/api/v1/sensors', json('POST', { sensor_id: 'c', name: 'c', sensor_type: 'temperature' }));
    const one = await post('c', { value: 20.5 });
    assert.deepEqual([one.status, one.body], [200, { accepted: 1 }]);
    const mixed = await post('c', [
      { value: 19, timestamp: iso(NOW - 2 * MIN) },
      { value: 'warm', timestamp: iso(NOW - MIN) },
      { value: 18, timestamp: 'soon' },
      { value: 17.5, timestamp: NOW - 3 * MIN },
    ]);
    assert.equal(mixed.status, 400);
    assert.deepEqual(
      [
        mixed.body.field,
        mixed.body.accepted,
        mixed.body.invalid.map((i: { index: number; field: string }) => `${i.index}.${i.field}`),
      ],
      ['1.value', 2, ['1.value', '2.timestamp']],
    );
    assert.equal((await post('nope', { value: 1 })).status, 404);

    const c = await w.request('/api/v1/sensors/c/data');
    assert.deepEqual(c.body, {
      sensor_id: 'c',
      data: [
        { timestamp: iso(NOW), value: 20.5 },
        { timestamp: iso(NOW - 2 * MIN), value: 19 },
        { timestamp: iso(NOW - 3 * MIN), value: 17.5 },
      ],
      total_count: 3,
    });
    assert.equal((await w.request('/api/v1/sensors/c')).body.last_value, 20.5);

    const a = await w.request(
      `/api/v1/sensors/a/data?start_time=${iso(T0)}&end_time=${iso(T0 + DAY)}&limit=3&offset=2`,
    );
    assert.deepEqual(a.body, {
      sensor_id: 'a',
      data: [177, 176, 175].map((v) => ({ timestamp: iso(T0 + v * MIN), value: v })),
      total_count: 180,
    });
    const hourly = await w.request(`/api/v1/sensors/a/data?start_time=${T0}&end_time=${T0 + DAY}&window=1h&agg=count`);
    assert.equal(hourly.status, 200, JSON.stringify(hourly.body));
    assert.deepEqual(hourly.body, {
      sensor_id: 'a',
      window: '1h',
      agg: 'count',
      data: [0, 1, 2].map((h) => ({ timestamp: iso(T0 + h * 60 * MIN), value: 60 })),
      total_count: 3,
    });
    for (const [query, field] of [
      ['window=2h', 'window'],
      ['agg=count', 'agg'],
      ['window=1h&agg=median', 'agg'],
      ['start_time=yesterday', 'start_time'],
      [`start_time=${T0 + 1}&end_time=${T0}`, 'start_time'],
      ['limit=0', 'limit'],
      ['limit=10001', 'limit'],
    ]) {
      const r = await w.request(`/api/v1/sensors/a/data?${query}`);
      assert.deepEqual([r.status, r.body.field], [400, field], `${query} → ${JSON.stringify(r.body)}`);
    }
    assert.equal((await w.request('/api/v1/sensors/nope/data')).status, 404);
  });
}
