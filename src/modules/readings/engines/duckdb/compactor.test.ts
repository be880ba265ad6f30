import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Reading } from '../../../../core/readings.js';
import type { AggregatePlan } from '../../plan.js';
import { batchOf, openTestEngine } from '../../test-engine.js';
import { compactSlice, planSlices, rowsPerSeries } from './repository.js';

const DAY = Date.UTC(2024, 0, 1);
const M = 60_000;
const H = 60 * M;

test('slices pack whole series up to the row budget and cut a larger series into spans of its day', () => {
  const day = DAY / 86_400_000;
  const slices = planSlices(
    [
      { seriesId: 1, rows: 4 },
      { seriesId: 2, rows: 2 },
      { seriesId: 3, rows: 3 },
      { seriesId: 4, rows: 9 },
      { seriesId: 5, rows: 1 },
    ],
    day,
    5,
  );
  const all = { fromTs: DAY, toTs: DAY + 24 * H };
  assert.deepEqual(slices, [
    { firstSeries: 1, lastSeries: 1, ...all },
    { firstSeries: 2, lastSeries: 3, ...all },
    { firstSeries: 4, lastSeries: 4, fromTs: DAY, toTs: DAY + 12 * H },
    { firstSeries: 4, lastSeries: 4, fromTs: DAY + 12 * H, toTs: DAY + 24 * H },
    { firstSeries: 5, lastSeries: 5, ...all },
  ]);
});

/** A day with in-order data, exact duplicates, corrections, late readings and a neighbouring day. */
const writes: Reading[][] = [
  [
    ...Array.from({ length: 40 }, (_, i) => ({ series: 'big', ts: DAY + 6 * H + i * 30 * M, value: i })),
    ...['a', 'b', 'c', 'd'].flatMap((series, s) =>
      Array.from({ length: 4 }, (_, i) => ({ series, ts: DAY + 10 * H + i * M, value: 100 * s + i })),
    ),
  ],
  [
    { series: 'big', ts: DAY + 6 * H, value: 0 }, // an exact duplicate
    { series: 'big', ts: DAY + 20 * H, value: -28 }, // a correction in the second half of the day
    { series: 'big', ts: DAY + H, value: -1 }, // late
    { series: 'b', ts: DAY + 10 * H + M, value: 1001 }, // a correction
    { series: 'c', ts: DAY + 10 * H, value: 200 }, // a duplicate
    { series: 'c', ts: DAY + 2 * H, value: 199 }, // late
    { series: 'a', ts: DAY + 24 * H + M, value: 5 }, // the next day
  ],
  [
    { series: 'b', ts: DAY + 10 * H + M, value: 1002 }, // corrected again: the last write wins
    { series: 'd', ts: DAY + 23 * H, value: 399 },
    { series: 'e', ts: DAY + 12 * H, value: 500 }, // a new series, late
  ],
];

/** Compacts `writes` with `sliceRows`; what the table holds afterwards, in its own order, and the answers. */
async function compacted(t: import('node:test').TestContext, sliceRows: number) {
  const engine = await openTestEngine(t, { sliceRows });
  for (const readings of writes) await engine.storage.write([batchOf(readings)], readings.length);
  await engine.storage.compactNow();
  const series = await engine.storage.series();
  const ids = series.map((s) => s.id);
  const range = { seriesIds: ids, startMs: DAY - 24 * H, endMs: DAY + 48 * H };
  const answers = await Promise.all(
    (['sum', 'count', 'first', 'last'] as const).map(async (agg) => {
      const plan: AggregatePlan = { ...range, bucket: { kind: 'fixed', widthMs: H }, agg };
      return columns(await engine.storage.aggregate(plan));
    }),
  );
  return {
    // no ORDER BY: the rows in the order the rewrite left them
    table: await engine.store.query(`SELECT series_id, ts, value, seq FROM readings`),
    raw: columns(await engine.storage.raw({ ...range, limit: 1000 })),
    answers,
    series: series.map(({ key, count, firstTs, lastTs, lastValue }) => ({ key, count, firstTs, lastTs, lastValue })),
  };
}

function columns(c: { length: number; seriesId: Float64Array; ts: Float64Array; value: Float64Array }) {
  return Array.from({ length: c.length }, (_, i) => [c.seriesId[i], c.ts[i], c.value[i]]);
}

test('a day compacted in slices holds the same rows in the same order as one compacted whole, and answers the same', async (t) => {
  const whole = await compacted(t, 5_000_000);
  const sliced = await compacted(t, 5); // 'big' in 9 spans of time, the small series packed
  assert.deepEqual(sliced.table, whole.table);
  assert.deepEqual(sliced.raw, whole.raw);
  assert.deepEqual(sliced.answers, whole.answers);
  assert.deepEqual(sliced.series, whole.series);

  // and both are sorted by (series, ts) with one row per (series, ts), the last write winning
  const latest = new Map<string, [number, number, number]>();
  const idOf = new Map<string, number>();
  for (const readings of writes) for (const r of readings) if (!idOf.has(r.series)) idOf.set(r.series, idOf.size + 1);
  for (const readings of writes)
    for (const r of readings) latest.set(`${r.series}@${r.ts}`, [idOf.get(r.series)!, r.ts, r.value]);
  const expected = [...latest.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  assert.equal(whole.series.length, 6);
  const rowsOfDay = whole.table
    .map((r) => r as { series_id: number; ts: number; value: number })
    .filter((r) => r.ts < DAY + 24 * H)
    .map((r) => [r.series_id, r.ts, r.value]);
  assert.deepEqual(
    rowsOfDay,
    expected.filter(([, ts]) => ts < DAY + 24 * H),
  );
  assert.equal(whole.series.find((s) => s.key === 'big')?.count, 41);
  assert.equal(whole.series.find((s) => s.key === 'b')?.count, 4);
});

test('a process killed between two slices leaves a day that answers the same, and the next compaction finishes it', async (t) => {
  const whole = await compacted(t, 5_000_000);
  const engine = await openTestEngine(t, { sliceRows: 5 });
  for (const readings of writes) await engine.storage.write([batchOf(readings)], readings.length);
  // what one slice's transaction commits before the process dies (counts are left as they were)
  const slices = planSlices(await rowsPerSeries(engine.store, DAY / (24 * H)), DAY / (24 * H), 5);
  assert.ok(slices.length > 2, 'the day is cut into several slices');
  await engine.store.transaction((tx) => compactSlice(tx, slices[0], 0));
  await engine.restart('killed');

  const ids = (await engine.storage.series()).map((s) => s.id);
  const range = { seriesIds: ids, startMs: DAY - 24 * H, endMs: DAY + 48 * H };
  const sum = async () =>
    columns(await engine.storage.aggregate({ ...range, bucket: { kind: 'fixed', widthMs: H }, agg: 'sum' }));
  // half rewritten, the day still counts as unsorted: duplicates are resolved when read
  assert.deepEqual(columns(await engine.storage.raw({ ...range, limit: 1000 })), whole.raw);
  assert.deepEqual(await sum(), whole.answers[0]);

  await engine.storage.compactNow();
  assert.deepEqual(await engine.store.query(`SELECT series_id, ts, value, seq FROM readings`), whole.table);
  assert.deepEqual(await sum(), whole.answers[0]);
});

test('compacted readings give up their seq, and rows written after a restart are still counted after a kill', async (t) => {
  const engine = await openTestEngine(t);
  for (const readings of writes) await engine.storage.write([batchOf(readings)], readings.length);
  await engine.storage.compactNow();
  // the stats count every row compacted, so none needs its seq: 0 is stored in no space
  const seqs = await engine.store.query<{ seq: number; n: number }>(
    `SELECT seq, CAST(count(*) AS INTEGER) AS n FROM readings GROUP BY seq`,
  );
  assert.deepEqual(
    seqs.map((r) => [Number(r.seq), r.n]),
    [[0, 61]],
  );

  // numbering after a restart starts past the stats' watermark, not past the highest seq stored (0),
  // so rows written then and never saved into the stats are folded in after a kill
  await engine.restart('clean');
  const later = [
    { series: 'a', ts: DAY + 2 * 24 * H, value: 1 },
    { series: 'new', ts: DAY + 2 * 24 * H, value: 2 },
  ];
  await engine.storage.write([batchOf(later)], later.length);
  await engine.restart('killed');
  const counts = Object.fromEntries((await engine.storage.series()).map((s) => [s.key, s.count]));
  assert.deepEqual(counts, { big: 41, a: 6, b: 4, c: 5, d: 5, e: 1, new: 1 });
  // and a correction of a compacted reading still wins over it
  await engine.storage.write([batchOf([{ series: 'big', ts: DAY + 6 * H, value: 1000 }])], 1);
  const raw = await engine.storage.raw({ seriesIds: [1], startMs: DAY + 6 * H, endMs: DAY + 6 * H + 1, limit: 10 });
  assert.deepEqual(Array.from(raw.value.subarray(0, raw.length)), [1000]);
});

test('a month that is over ends in (series, ts) order across its days, every reading kept, in slices or whole; a late write re-sorts only its day', async (t) => {
  // three days, time-major as collectors send them: each day sorted alone still jumps back to
  // midnight at every series boundary
  const series = ['a', 'b', 'c'];
  const readings: Reading[] = [];
  for (let m = 0; m < 3 * 24 * 4; m++)
    for (const [s, key] of series.entries()) readings.push({ series: key, ts: DAY + m * 15 * M, value: s * 1000 + m });
  const physical = (engine: Awaited<ReturnType<typeof openTestEngine>>) =>
    engine.store.query<{ series_id: number; ts: number; value: number }>(
      `SELECT series_id, ts, value FROM readings ORDER BY rowid`,
    );
  const inOrder = (rows: { series_id: number; ts: number }[]) =>
    rows.every(
      (r, i) =>
        i === 0 ||
        rows[i - 1].series_id < r.series_id ||
        (rows[i - 1].series_id === r.series_id && rows[i - 1].ts < r.ts),
    );

  for (const sliceRows of [5_000_000, 100]) {
    const engine = await openTestEngine(t, { sliceRows });
    await engine.storage.write([batchOf(readings)], readings.length);
    await engine.storage.compactNow();
    const rows = await physical(engine);
    assert.equal(rows.length, readings.length, `sliceRows ${sliceRows}`);
    assert.ok(inOrder(rows), `sliceRows ${sliceRows}: the table in (series, ts) order`);

    // a late correction re-sorts its day alone, to the end of the table: the month's readings are
    // not moved again (its rollups are clustered again)
    const secondDay = (r: { ts: number }) => r.ts >= DAY + 24 * H && r.ts < DAY + 48 * H;
    await engine.storage.write([batchOf([{ series: 'b', ts: DAY + 24 * H, value: -1 }])], 1);
    await engine.storage.compactNow();
    const after = await physical(engine);
    assert.equal(after.length, readings.length);
    const tail = after.slice(-rows.filter(secondDay).length);
    assert.ok(tail.every(secondDay) && inOrder(tail), `sliceRows ${sliceRows}: the late day, sorted, at the end`);
    const rest = after.slice(0, after.length - tail.length);
    assert.ok(inOrder(rest), `sliceRows ${sliceRows}: the other days still in (series, ts) order`);
    assert.equal(after.find((r) => r.series_id === 2 && r.ts === DAY + 24 * H)?.value, -1);
    const counts = Object.fromEntries((await engine.storage.series()).map((s) => [s.key, s.count]));
    assert.deepEqual(counts, { a: 288, b: 288, c: 288 });
    const months = await engine.store.query<{ month: number }>(`SELECT month FROM readings_hourly_months`);
    assert.deepEqual(
      months.map((m) => Number(m.month)),
      [DAY / (24 * H)],
      'the rollups clustered again',
    );
  }
});
