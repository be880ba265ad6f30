import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, buildMode, sendJson, type TestApp } from './helpers.js';

const DAY = 86_400_000;
const M = 60_000;

/** Days -10 … -1 (UTC) of two power series, a reading every 15 minutes. */
async function seeded(w: TestApp) {
  const today = Math.floor(Date.now() / DAY) * DAY;
  const start = today - 10 * DAY;
  const lines = [];
  for (let ts = start, i = 0; ts < today; ts += 15 * M, i++)
    for (const series of ['power/a', 'power/b']) lines.push({ series, ts, value: 100 + ((i * 37) % 50) });
  const sent = await w.ingest(lines);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  await w.app.readings.compactNow();
  return { start, today };
}

const query = async (w: TestApp, params: string) => {
  const r = await w.request(`/api/v1/query?${params}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results.map((x: { points: { time: string; value: number }[] }) => x.points);
};

test('retention deletes raw readings past a rule’s keep while hourly and daily answers stay the same', async (t) => {
  const w = await build(t);
  const { start, today } = await seeded(w);
  const range = `start=${start}&end=${today - 1}`;
  const daily = `series=power/a,power/b&${range}&window=1d&agg=avg`;
  const hourly = `series=power/a&${range}&window=1h&agg=count`;
  const [dailyBefore, hourlyBefore] = [await query(w, daily), await query(w, hourly)];
  assert.equal(dailyBefore[0].length, 10);

  const put = await w.request('/api/v1/retention', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [{ pattern: 'power/a*', keep_raw_days: 3 }] }),
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body, { rules: [{ pattern: 'power/a*', keep_raw_days: 3 }], source: 'api' });
  const applied = await sendJson(w, 'POST', '/api/v1/retention/apply', {});
  // days -10 … -4 of power/a: 7 days × 96 readings
  assert.deepEqual(applied, { series: 1, deleted: 7 * 96, supported: true });

  const [rawA, rawB] = await query(w, `series=power/a,power/b&${range}`);
  assert.equal(rawA.length, 3 * 96, 'power/a keeps its last 3 days raw');
  assert.equal(Date.parse(rawA[0].time), today - 3 * DAY);
  assert.equal(rawB.length, 10 * 96, 'power/b matches no rule');
  assert.deepEqual(await query(w, daily), dailyBefore, 'daily averages from the rollups, as before');
  assert.deepEqual(await query(w, hourly), hourlyBefore, 'hourly counts from the rollups, as before');
  assert.equal((await w.request('/api/v1/series/power/a')).body.count, 3 * 96);

  // a late reading in a pruned day adds to what its rollups hold
  const late = start + DAY + 7 * M;
  assert.equal((await w.ingest([{ series: 'power/a', ts: late, value: 1000 }])).status, 200);
  await w.app.readings.compactNow();
  const counts = await query(w, `series=power/a&start=${start + DAY}&end=${start + 2 * DAY - 1}&window=1d&agg=count`);
  assert.deepEqual(
    counts[0].map((p: { value: number }) => p.value),
    [97],
  );
  // merged once: the late reading itself is gone, and another write to the day (here another
  // series') rewrites it without counting the late reading twice
  assert.deepEqual((await query(w, `series=power/a&start=${late}&end=${late}`))[0], []);
  assert.equal((await w.ingest([{ series: 'power/b', ts: late, value: 5 }])).status, 200);
  await w.app.readings.compactNow();
  const day = `start=${start + DAY}&end=${start + 2 * DAY - 1}&window=1d`;
  assert.deepEqual(
    (await query(w, `series=power/a&${day}&agg=count`))[0].map((p: { value: number }) => p.value),
    [97],
  );
  assert.deepEqual(
    (await query(w, `series=power/a&${day}&agg=max`))[0].map((p: { value: number }) => p.value),
    [1000],
  );
  assert.equal((await w.request('/api/v1/series/power/a')).body.count, 3 * 96, 'the merged reading is off the count');
  assert.equal((await sendJson(w, 'POST', '/api/v1/retention/apply', {})).deleted, 0);

  const bad = await w.request('/api/v1/retention', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [{ pattern: 'x', keep_raw_days: 0 }] }),
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'rules.0.keep_raw_days');
});

test('on PostgreSQL retention rules are kept but nothing is deleted (no rollups there yet)', async (t) => {
  const w = await buildMode(t, 'postgres', { 'retention.rules': [{ pattern: '*', keep_raw_days: 1 }] });
  if (!w) return;
  const today = Math.floor(Date.now() / DAY) * DAY;
  assert.equal((await w.ingest([{ series: 'old', ts: today - 5 * DAY, value: 1 }])).status, 200);
  assert.deepEqual((await w.request('/api/v1/retention')).body, {
    rules: [{ pattern: '*', keep_raw_days: 1 }],
    source: 'settings',
  });
  assert.deepEqual(await sendJson(w, 'POST', '/api/v1/retention/apply', {}), {
    series: 0,
    deleted: 0,
    supported: false,
  });
  assert.equal((await query(w, `series=old&start=${today - 6 * DAY}&end=${today}`))[0].length, 1);
});
