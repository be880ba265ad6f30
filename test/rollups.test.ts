/**
 * Hourly rollups on both stores (issue 19): every aggregation over 1h and 1d windows answers what
 * the readings say, last write winning, before and after the background job rolls hours up, after
 * late readings, corrections and a new series, and the rollups are what answers once it has.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMode, MODES, type TestApp } from './helpers.js';

const T0 = Date.UTC(2024, 0, 8); // a past month: DuckDB sorts and rolls up its days at once
const MIN = 60_000;
const HOUR = 60 * MIN;
const AGGS = ['min', 'max', 'sum', 'count', 'avg', 'first', 'last'] as const;

type Row = { series: string; ts: number; value: number };

/** What a window of `agg` should answer, from the readings (the last write of a key winning). */
function expected(rows: readonly Row[], series: string, widthMs: number, agg: (typeof AGGS)[number]) {
  const latest = new Map<number, number>();
  for (const r of rows) if (r.series === series) latest.set(r.ts, r.value);
  const buckets = new Map<number, [number, number][]>();
  for (const [ts, value] of [...latest].sort((a, b) => a[0] - b[0])) {
    const b = ts - (ts % widthMs);
    buckets.set(b, [...(buckets.get(b) ?? []), [ts, value]]);
  }
  return [...buckets].map(([ts, points]) => {
    const values = points.map(([, v]) => v);
    const sum = values.reduce((a, v) => a + v, 0);
    const value = {
      min: Math.min(...values),
      max: Math.max(...values),
      sum,
      count: values.length,
      avg: sum / values.length,
      first: values[0],
      last: values[values.length - 1],
    }[agg];
    return { ts, value };
  });
}

async function answers(w: TestApp, series: string, window: '1h' | '1d', agg: string) {
  // a range that starts and ends inside hours: partial hours come from the readings
  const start = T0 + 7 * MIN;
  const end = T0 + 3 * 24 * HOUR - 5 * MIN;
  const r = await w.request(`/api/v1/query?series=${series}&start=${start}&end=${end}&window=${window}&agg=${agg}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const [result] = (r.body as { results: { points: { time: string; value: number }[] }[] }).results;
  return result.points.map((p) => ({ ts: Date.parse(p.time), value: p.value }));
}

async function checkAll(w: TestApp, rows: Row[], when: string) {
  const inRange = rows.filter((r) => r.ts >= T0 + 7 * MIN && r.ts <= T0 + 3 * 24 * HOUR - 5 * MIN);
  for (const series of ['a', 'b', 'c'])
    for (const [window, width] of [
      ['1h', HOUR],
      ['1d', 24 * HOUR],
    ] as const)
      for (const agg of AGGS) {
        const want = expected(inRange, series, width, agg);
        const got = await answers(w, series, window, agg);
        assert.equal(got.length, want.length, `${when}: ${series} ${window} ${agg}: buckets`);
        for (const [i, p] of got.entries()) {
          assert.equal(p.ts, want[i].ts, `${when}: ${series} ${window} ${agg}`);
          assert.ok(
            Math.abs(p.value - want[i].value) <= 1e-9 * Math.max(1, Math.abs(want[i].value)),
            `${when}: ${series} ${window} ${agg} at ${new Date(p.ts).toISOString()}: ${p.value}, expected ${want[i].value}`,
          );
        }
      }
}

async function ingest(w: TestApp, rows: readonly Row[]) {
  const r = await w.request('/ingest', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: rows.map((x) => JSON.stringify(x)).join('\n'),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

for (const mode of MODES) {
  test(`rollups answer as the readings do after late data, corrections and compaction (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const rows: Row[] = [];
    for (let m = 0; m < 3 * 24 * 60; m += 7)
      for (const [s, series] of ['a', 'b'].entries())
        rows.push({ series, ts: T0 + m * MIN, value: Math.round(100 * Math.sin(m / 50 + s)) / 10 + s });
    await ingest(w, rows);
    await checkAll(w, rows, 'written');
    await w.app.readings.compactNow();
    await checkAll(w, rows, 'rolled up');

    // the rollups answer now: the stores hold them, and no hour waits to be rolled up
    const store = w.app.ctx.store;
    const [{ n }] = await store.query<{ n: number }>(`SELECT CAST(count(*) AS INTEGER) AS n FROM readings_hourly`);
    assert.ok(n >= 2 * 3 * 24, `${n} hourly rollups`);
    if (mode === 'postgres') {
      const [dirty] = await store.query<{ n: number }>(
        `SELECT CAST(count(*) AS INTEGER) AS n FROM readings_hours_dirty`,
      );
      assert.equal(dirty.n, 0);
    }

    // late readings, corrections of rolled-up ones, a reading resent as it was, and a new series
    const later: Row[] = [
      { series: 'a', ts: T0 + 30 * MIN + 1, value: 500 }, // late: a new first-hour reading
      { series: 'a', ts: T0 + 7 * MIN, value: -40 }, // a correction (first of its hour)
      { series: 'b', ts: T0 + 24 * HOUR + 7 * 60 * MIN, value: 999 }, // a correction, a later day
      rows[rows.length - 1], // resent as it was
      { series: 'c', ts: T0 + 36 * HOUR, value: 3 },
      { series: 'c', ts: T0 + 36 * HOUR + MIN, value: 4 },
    ];
    await ingest(w, later);
    rows.push(...later);
    await checkAll(w, rows, 'after late data, before rolling up again');
    await w.app.readings.compactNow();
    await checkAll(w, rows, 'after late data, rolled up again');
  });
}
