import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../../../../core/log.js';
import type { Reading } from '../../../../core/readings.js';
import { loadMigrations, openStore } from '../../../../core/store/index.js';
import { createReadingsMetrics } from '../../metrics.js';
import { AGGREGATIONS, type AggregatePlan, type Aggregation, type Bucket } from '../../plan.js';
import type { ReadingsStorage } from '../../storage.js';
import { batchOf, openTestEngine } from '../../test-engine.js';
import { openEngine } from '../index.js';

const DAY = 86_400_000;
const M = 60_000;
const H = 60 * M;
const START = Date.UTC(2024, 9, 25); // over London's autumn change (2024-10-27)

/** Three series, a reading every 7 minutes over 4 days (so hours hold 8 or 9, some none at the edges). */
function readingsOf(): Reading[] {
  const out: Reading[] = [];
  for (const [s, series] of ['a', 'b', 'c'].entries())
    for (let i = 0, ts = START; ts < START + 4 * DAY; i++, ts += 7 * M)
      out.push({ series, ts: ts + s * M, value: ((i * 37 + s * 11) % 101) - 20 + i / 8 });
  return out;
}

const REDUCE: Record<Aggregation, (v: readonly Reading[]) => number> = {
  min: (v) => Math.min(...v.map((r) => r.value)),
  max: (v) => Math.max(...v.map((r) => r.value)),
  sum: (v) => v.reduce((a, r) => a + r.value, 0),
  count: (v) => v.length,
  avg: (v) => v.reduce((a, r) => a + r.value, 0) / v.length,
  first: (v) => v[0].value,
  last: (v) => v.at(-1)!.value,
};

/** What an aggregate must answer, worked out from the readings themselves: `series:bucket` → value. */
function expected(
  readings: readonly Reading[],
  plan: AggregatePlan,
  keys: readonly string[],
  bucketOf: (ts: number) => number,
) {
  const groups = new Map<string, Reading[]>();
  const inRange = readings.filter((r) => r.ts >= plan.startMs && r.ts <= plan.endMs).sort((x, y) => x.ts - y.ts);
  for (const r of inRange) {
    const k = `${keys.indexOf(r.series)}:${bucketOf(r.ts)}`;
    const group = groups.get(k);
    if (group) group.push(r);
    else groups.set(k, [r]);
  }
  return new Map([...groups].map(([k, v]) => [k, REDUCE[plan.agg](v)]));
}

/** The first instant of the local day holding `ts` in `zone` (every zone's days start on a quarter hour). */
const localDayStart = (zone: string) => {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone: zone });
  const starts = new Map<string, number>();
  return (ts: number) => {
    const day = format.format(ts);
    let t = starts.get(day);
    if (t === undefined) {
      t = Date.parse(`${day}T00:00:00Z`) - 14 * H;
      while (format.format(t) !== day) t += 15 * M;
      starts.set(day, t);
    }
    return t;
  };
};

async function check(
  storage: ReadingsStorage,
  readings: readonly Reading[],
  bucket: Bucket,
  range: { startMs: number; endMs: number },
  bucketOf: (ts: number) => number,
) {
  const keys = ['a', 'b', 'c'];
  const ids = (await storage.series(keys)).map((s) => s.id);
  for (const agg of AGGREGATIONS) {
    const plan: AggregatePlan = { seriesIds: ids, ...range, bucket, agg };
    const got = await storage.aggregate(plan);
    const want = expected(readings, plan, keys, bucketOf);
    const label = `${agg} ${JSON.stringify(bucket)} ${new Date(range.startMs).toISOString()}…${new Date(range.endMs).toISOString()}`;
    assert.equal(got.length, want.size, `${label}: buckets`);
    for (let i = 0; i < got.length; i++) {
      const k = `${ids.indexOf(got.seriesId[i])}:${got.ts[i]}`;
      assert.ok(want.has(k), `${label}: unexpected bucket ${k}`);
      assert.ok(
        Math.abs(got.value[i] - want.get(k)!) < 1e-9,
        `${label} ${k}: ${got.value[i]}, expected ${want.get(k)}`,
      );
    }
  }
}

const hourly: Bucket = { kind: 'fixed', widthMs: H };
const daily: Bucket = { kind: 'fixed', widthMs: DAY };
const align = (w: number) => (ts: number) => ts - (ts % w);
// ranges that start and end inside hours and days, and one on exact hours
const RANGES = [
  { startMs: START + 5 * H + 17 * M, endMs: START + 3 * DAY + 4 * H + 3 * M },
  { startMs: START + DAY, endMs: START + 3 * DAY - 1 },
];

test('aggregates over hourly rollups agree with the readings, in UTC and in zones on and off the hour', async (t) => {
  const engine = await openTestEngine(t);
  const readings = readingsOf();
  await engine.storage.write([batchOf(readings)], readings.length);
  await engine.storage.compactNow();
  const [{ n }] = await engine.store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM readings_hourly`);
  assert.equal(n, 3 * 4 * 24, 'every hour of each series rolled up');
  for (const range of RANGES) {
    await check(engine.storage, readings, hourly, range, align(H));
    await check(engine.storage, readings, daily, range, align(DAY));
    for (const zone of ['Europe/London', 'Asia/Kathmandu', 'Australia/Lord_Howe'])
      await check(engine.storage, readings, { kind: 'calendar', unit: 'day', zone }, range, localDayStart(zone));
  }
});

test('a sorted day written again is answered from its readings until it is rolled up again', async (t) => {
  const engine = await openTestEngine(t);
  const readings = readingsOf();
  await engine.storage.write([batchOf(readings)], readings.length);
  await engine.storage.compactNow();
  // corrections and a late reading in the second day, whose rollups are now out of date
  const late: Reading[] = [
    { series: 'a', ts: START + DAY + 10 * H, value: 1e6 },
    { series: 'b', ts: readings.find((r) => r.series === 'b' && r.ts > START + DAY)!.ts, value: -1e6 },
  ];
  await engine.storage.write([batchOf(late)], late.length);
  const current = [...readings.filter((r) => !late.some((l) => l.series === r.series && l.ts === r.ts)), ...late];
  await check(engine.storage, current, hourly, RANGES[0], align(H));
  await check(engine.storage, current, daily, RANGES[0], align(DAY));
  await engine.storage.compactNow();
  await check(engine.storage, current, daily, RANGES[0], align(DAY));
  // and after a restart, from the states and rollups saved
  await engine.restart('killed');
  await check(
    engine.storage,
    current,
    { kind: 'calendar', unit: 'day', zone: 'Europe/London' },
    RANGES[0],
    localDayStart('Europe/London'),
  );
});

test('a removed series takes its rollups with it', async (t) => {
  const engine = await openTestEngine(t);
  const readings = readingsOf();
  await engine.storage.write([batchOf(readings)], readings.length);
  await engine.storage.compactNow();
  const [a] = await engine.storage.series(['a']);
  assert.equal(await engine.storage.deleteSeries('a'), true);
  const rows = await engine.store.query<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM readings_hourly WHERE series_id = $1`,
    [a.id],
  );
  assert.equal(rows[0].n, 0);
});

test('upgrading a store rolls up the days it had already sorted', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-rollups-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const migrations = loadMigrations(path.join(import.meta.dirname, '../../migrations'), 'duckdb');
  const background = {
    log: createLogger('silent'),
    metrics: createReadingsMetrics(new Registry()),
    intervalMs: 3_600_000,
    quietMs: 0,
    dirtyWaitMs: 0,
    sliceRows: 5_000_000,
  };
  const readings = readingsOf();
  {
    // sorted days, then the store as it was before rollups: no readings_hourly, migration 003 not applied
    const store = await openStore({ dataDir: dir, poolSize: 2 });
    await store.migrate('readings', migrations);
    const storage = await openEngine(store, { catalogSaveMs: 0 });
    storage.startBackground(background);
    await storage.write([batchOf(readings)], readings.length);
    await storage.compactNow();
    await storage.stop();
    await store.transaction(async (tx) => {
      await tx.run(`DROP TABLE readings_hourly`);
      await tx.run(`DELETE FROM wattline_migrations WHERE module = 'readings' AND version = 3`);
    });
    await store.close();
  }
  const store = await openStore({ dataDir: dir, poolSize: 2 });
  t.after(() => store.close());
  await store.migrate('readings', migrations);
  const [{ n }] = await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM readings_hourly`);
  assert.equal(n, 3 * 4 * 24);
  const storage = await openEngine(store, { catalogSaveMs: 0 });
  await check(storage, readings, daily, RANGES[0], align(DAY));
});

test('rollups of a month that is over are rewritten in series order, and answers stay right through late writes', async (t) => {
  const engine = await openTestEngine(t);
  // 4 days over a month's end, long past: both months are over
  const readings = readingsOf();
  await engine.storage.write([batchOf(readings)], readings.length);
  await engine.storage.compactNow();
  const months = await engine.store.query<{ month: number }>(`SELECT month FROM readings_hourly_months ORDER BY 1`);
  assert.deepEqual(
    months.map((m) => new Date(Number(m.month) * DAY).toISOString().slice(0, 7)),
    ['2024-10'],
    'October is clustered (the readings run 25–28 October)',
  );
  // one series' rows are neighbours now
  const order = await engine.store.query<{ series_id: number }>(`SELECT series_id FROM readings_hourly`);
  const switches = order.filter((r, i) => i > 0 && r.series_id !== order[i - 1].series_id).length;
  assert.equal(switches, 2, 'three series, each in one run');
  for (const range of RANGES) await check(engine.storage, readings, hourly, range, align(H));
  // a late correction in a clustered month: answered right, and clustered again after its rewrite
  const late: Reading[] = [{ series: 'c', ts: readings.find((r) => r.series === 'c')!.ts, value: 5e5 }];
  await engine.storage.write([batchOf(late)], 1);
  await engine.storage.compactNow();
  const current = [...readings.filter((r) => !(r.series === 'c' && r.ts === late[0].ts)), ...late];
  for (const range of RANGES) {
    await check(engine.storage, current, hourly, range, align(H));
    await check(engine.storage, current, daily, range, align(DAY));
  }
  assert.equal((await engine.store.query(`SELECT month FROM readings_hourly_months`)).length, 1);
});
