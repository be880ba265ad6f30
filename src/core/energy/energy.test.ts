import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priceSegments, standingPerBucket, stepCuts, stepValues, type Steps } from './cost.js';
import { bucketEdges, refineEdges } from './edges.js';
import { counterIncrease, gaugeIntegral, intervalSpread, type SeriesPoints } from './spread.js';
import { conversionFactor, integralFactor } from './units.js';

const H = 3_600_000;
const M = 60_000;
const T0 = Date.UTC(2024, 5, 1); // 2024-06-01T00:00Z
const points = (rows: [number, number][]): SeriesPoints => ({
  ts: Float64Array.from(rows, (r) => r[0]),
  value: Float64Array.from(rows, (r) => r[1]),
  length: rows.length,
});
/** Rounded to 1e-9, and null where nothing covered the bucket: what an API answers. */
const answer = ({ values, covered }: { values: Float64Array; covered: Uint8Array }, factor = 1) =>
  Array.from(values, (v, i) => (covered[i] ? Math.round(v * factor * 1e9) / 1e9 : null));
const counter = { resetTolerance: 0.001, maxGapMs: H };

test('a counter read every 15 minutes with a reset mid-hour: hourly increase and the day total', () => {
  const values = [100.0, 100.4, 100.8, 0.3, 0.7, 1.1, 1.5, 1.9, 2.3];
  const meter = points(values.map((v, i) => [T0 + i * 15 * M, v]));
  // 00:00–00:45 rises 0.8, the reset at 00:45 counts 0.3 (from zero), 00:45–01:00 0.4; then 0.4 a quarter
  assert.deepEqual(answer(counterIncrease(meter, bucketEdges(T0, T0 + 3 * H, '1h'), counter)), [1.5, 1.6, null]);
  assert.deepEqual(answer(counterIncrease(meter, bucketEdges(T0, T0 + 24 * H, '1d'), counter)), [3.1]);
  // a range starting mid-span takes only the part of the change after its start
  assert.deepEqual(answer(counterIncrease(meter, bucketEdges(T0 + 7.5 * M, T0 + 15 * M, '1h'), counter)), [0.2]);
});

test('a tiny decrease is jitter: not a reset, and the next rise is not counted twice', () => {
  const meter = points([
    [T0, 100],
    [T0 + 15 * M, 99.95], // 0.05 %: under the 0.1 % tolerance
    [T0 + 30 * M, 100.2],
  ]);
  assert.deepEqual(answer(counterIncrease(meter, bucketEdges(T0, T0 + H, '1h'), counter)), [0.2]);
});

test('a reset is a drop from the previous reading: jitter creeping down is not a reset', () => {
  // each step is 0.05 % down (under the tolerance), 0.15 % below the highest reading in all
  const meter = points([100, 99.95, 99.9, 99.85, 100.3].map((v, i): [number, number] => [T0 + i * 10 * M, v]));
  assert.deepEqual(answer(counterIncrease(meter, bucketEdges(T0, T0 + H, '1h'), counter)), [0.3]);
});

test("across a gap longer than maxGapMs a counter's change goes whole to the later reading's bucket", () => {
  const meter = points([
    [T0, 10],
    [T0 + 3.5 * H, 13],
    [T0 + 3.75 * H, 13.5],
  ]);
  assert.deepEqual(answer(counterIncrease(meter, bucketEdges(T0, T0 + 4 * H, '1h'), counter)), [null, null, null, 3.5]);
});

test('a constant 1 kW gauge read every 10 s for 90 minutes integrates to 1.5 kWh, 1.0 and 0.5 by hour', () => {
  const rows: [number, number][] = [];
  for (let t = T0; t <= T0 + 90 * M; t += 10_000) rows.push([t, 1]);
  const kwh = integralFactor('kW', 'kWh')!;
  assert.deepEqual(
    answer(gaugeIntegral(points(rows), bucketEdges(T0, T0 + 2 * H, '1h'), { maxGapMs: H }), kwh),
    [1, 0.5],
  );
  assert.deepEqual(
    answer(gaugeIntegral(points(rows), bucketEdges(T0, T0 + 2 * H, undefined), { maxGapMs: H }), kwh),
    [1.5],
  );
  // the same in W asked as Wh
  const watts = points(rows.map(([t]) => [t, 1000]));
  assert.deepEqual(
    answer(gaugeIntegral(watts, bucketEdges(T0, T0 + 2 * H, '1h'), { maxGapMs: H }), integralFactor('W', 'Wh')),
    [1000, 500],
  );
});

test('a ramp is integrated exactly where a bucket edge cuts it', () => {
  // 0 W at 00:30 rising to 2000 W at 01:30: 500 Wh before 01:00 and 1500 Wh after
  const ramp = points([
    [T0 + 30 * M, 0],
    [T0 + 90 * M, 2000],
  ]);
  assert.deepEqual(
    answer(gaugeIntegral(ramp, bucketEdges(T0, T0 + 2 * H, '1h'), { maxGapMs: H }), integralFactor('W', 'Wh')),
    [250, 750],
  );
});

test('a gauge gap longer than maxGapMs is not bridged', () => {
  const rows: [number, number][] = [];
  for (let t = T0; t <= T0 + 30 * M; t += 10_000) rows.push([t, 1]);
  for (let t = T0 + 2 * H; t <= T0 + 2.5 * H; t += 10_000) rows.push([t, 1]);
  const hourly = gaugeIntegral(points(rows), bucketEdges(T0, T0 + 3 * H, '1h'), { maxGapMs: H });
  assert.deepEqual(answer(hourly, integralFactor('kW', 'kWh')), [0.5, null, 0.5]);
});

test('half-hourly interval energy in 15-minute buckets: half each', () => {
  const usage = points([
    [T0, 1],
    [T0 + 30 * M, 2],
  ]);
  assert.deepEqual(answer(intervalSpread(usage, bucketEdges(T0, T0 + H, '15m'), 30 * M)), [0.5, 0.5, 1, 1]);
  assert.deepEqual(answer(intervalSpread(usage, bucketEdges(T0, T0 + H, '1h'), 30 * M)), [3]);
});

test('a month in Europe/London holding the October clock change: 31 local days, one of 25 hours', () => {
  const zone = 'Europe/London';
  const start = Date.parse('2024-09-30T23:00:00Z'); // 1 October, local midnight (BST)
  const end = Date.parse('2024-11-01T00:00:00Z'); // 1 November, local midnight (GMT)
  const days = bucketEdges(start, end, '1d', zone);
  assert.equal(days.length - 1, 31);
  const hours = Array.from(days.subarray(1), (e, i) => (e - days[i]) / H);
  assert.deepEqual(
    hours.map((h, i) => [i + 1, h]).filter(([, h]) => h !== 24),
    [[27, 25]],
  );
  assert.deepEqual(Array.from(bucketEdges(start, end, 'month', zone)), [start, end]);
  // a constant 1 kW over the month: 745 kWh, 25 of them on the 27th
  const rows: [number, number][] = [];
  for (let t = start - 10 * M; t <= end + 10 * M; t += 10 * M) rows.push([t, 1]);
  const kwh = integralFactor('kW', 'kWh')!;
  const daily = answer(gaugeIntegral(points(rows), days, { maxGapMs: H }), kwh);
  assert.equal(daily[26], 25);
  assert.equal(daily[0], 24);
  assert.deepEqual(
    answer(gaugeIntegral(points(rows), bucketEdges(start, end, 'month', zone), { maxGapMs: H }), kwh),
    [745],
  );
  // calendar weeks start on Monday (28 October 2024 is one)
  assert.ok(Array.from(bucketEdges(start, end, 'week', zone)).includes(Date.parse('2024-10-28T00:00:00Z')));
});

/** Cost of `energy` (per fine segment) under `prices`, per bucket. */
function price(
  energyOf: (edges: Float64Array) => { values: Float64Array; covered: Uint8Array },
  steps: Steps,
  buckets: Float64Array,
) {
  const fine = refineEdges(buckets, stepCuts(steps, buckets[0], buckets[buckets.length - 1]));
  return priceSegments(buckets, fine, energyOf(fine), stepValues(steps, fine));
}

test('15-minute prices against half-hourly usage: each quarter of energy at its own price', () => {
  const usage = points([
    [T0, 1],
    [T0 + 30 * M, 2],
  ]);
  const prices: Steps = { points: points([10, 20, 30, 40].map((p, i) => [T0 + i * 15 * M, p])), holdMs: 15 * M };
  const priced = price((e) => intervalSpread(usage, e, 30 * M), prices, bucketEdges(T0, T0 + H, '1h'));
  assert.deepEqual(Array.from(priced.cost), [0.5 * 10 + 0.5 * 20 + 1 * 30 + 1 * 40]);
  assert.deepEqual(Array.from(priced.missingSlots), [0]);
});

test('a day/night tariff prices each part of a constant load at its own rate', () => {
  const rows: [number, number][] = [];
  for (let t = T0 - H; t <= T0 + 25 * H; t += 5 * M) rows.push([t, 1]);
  const load = points(rows);
  // 30 p from 07:30 the day before, 8 p (night) from 00:30 to 07:30, 30 p again from 07:30
  const tariff: Steps = {
    points: points([
      [T0 - 16.5 * H, 30],
      [T0 + 0.5 * H, 8],
      [T0 + 7.5 * H, 30],
    ]),
  };
  const kwh = integralFactor('kW', 'kWh')!;
  const priced = price(
    (e) => {
      const r = gaugeIntegral(load, e, { maxGapMs: H });
      return { values: r.values.map((v) => v * kwh), covered: r.covered };
    },
    tariff,
    bucketEdges(T0, T0 + 24 * H, '1d'),
  );
  assert.equal(Math.round(priced.energy[0] * 1e9) / 1e9, 24);
  assert.equal(Math.round(priced.cost[0] * 1e9) / 1e9, 0.5 * 30 + 7 * 8 + 16.5 * 30);
});

test('a missing price slot is counted and its energy left unpriced, never priced at zero', () => {
  const usage = points([0, 1, 2, 3].map((i) => [T0 + i * 30 * M, 1]));
  // the 01:00 price never arrived; the 00:30 one holds only its half-hour
  const prices: Steps = {
    points: points([
      [T0, 10],
      [T0 + 30 * M, 10],
      [T0 + 90 * M, 10],
    ]),
    holdMs: 30 * M,
  };
  const priced = price((e) => intervalSpread(usage, e, 30 * M), prices, bucketEdges(T0, T0 + 2 * H, '1h'));
  assert.deepEqual(Array.from(priced.cost), [20, 10]);
  assert.deepEqual(Array.from(priced.missingSlots), [0, 1]);
  assert.deepEqual(Array.from(priced.unpricedEnergy), [0, 1]);
});

test("standing charges are per local day, shared among the day's buckets", () => {
  const charges: Steps = {
    points: points([
      [T0 - 10 * 24 * H, 48],
      [T0 + 24 * H, 72],
    ]),
  };
  const hourly = standingPerBucket(bucketEdges(T0, T0 + 48 * H, '1h'), charges, 'UTC');
  assert.equal(hourly[0], 2);
  assert.equal(hourly[24], 3);
  assert.equal(Array.from(standingPerBucket(bucketEdges(T0, T0 + 48 * H, '1d'), charges, 'UTC')).join(), '48,72');
});

test('power and energy units convert into their own kind only', () => {
  assert.equal(conversionFactor('Wh', 'kWh'), 0.001);
  assert.equal(conversionFactor('MW', 'kW'), 1000);
  assert.equal(conversionFactor('V', 'kWh'), undefined);
  assert.equal(conversionFactor('W', 'kWh'), undefined);
  assert.equal(integralFactor('W', 'kWh'), 1 / 3_600_000 / 1000);
});
