import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wattline, writeFiles } from './cli-helpers.js';
import { MODES, type TestApp, buildMode } from './helpers.js';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2024, 5, 1); // 2024-06-01T00:00Z
const iso = (ms: number) => new Date(ms).toISOString();
const round = (v: number | null) => (v === null ? null : Math.round(v * 1e9) / 1e9);

const COUNTER = 'home/meter/total';
const INTERVAL = 'home/meter/usage';

// a kWh meter read every 15 minutes for 3 hours: 1.0 kWh in the first hour, 2.6 in the second, 0.4 in the third
const METER = [100, 100.1, 100.3, 100.6, 101.0, 101.5, 102.1, 102.8, 103.6, 103.7, 103.8, 103.9, 104.0];
// half-hourly kWh: 1.2, 0.6 and 1.2 by hour
const USAGE = [0.5, 0.7, 0.2, 0.4, 0.9, 0.3];

/** The history as ingest lines; the counter's lines say its unit and kind. */
const history = () => [
  ...METER.map((value, i) => ({ series: COUNTER, ts: iso(T0 + i * 15 * M), value, unit: 'kWh', kind: 'counter' })),
  ...USAGE.map((value, i) => ({ series: INTERVAL, ts: iso(T0 + i * 30 * M), value })),
];

async function energy(w: TestApp, series: string, query: string) {
  const r = await w.request(`/api/v1/energy?series=${series}&${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const [s] = r.body.results;
  return { values: s.points.map((p: { value: number | null }) => round(p.value)), total: round(s.total) };
}

/** Every answer the test compares: hourly over the 3 hours, and a range that starts between two readings. */
async function answers(w: TestApp) {
  const hourly = `start=${iso(T0)}&end=${iso(T0 + 3 * H)}&window=1h`;
  return {
    counter: await energy(w, COUNTER, hourly),
    interval: await energy(w, INTERVAL, hourly),
    // starts at 01:10, between the readings of 01:00 and 01:15: the one before the range counts for a third
    counterFrom0110: await energy(w, COUNTER, `start=${iso(T0 + 70 * M)}&end=${iso(T0 + 2 * H)}`),
    raw: (await w.request(`/api/v1/query?series=${COUNTER},${INTERVAL}&start=${T0}&end=${T0 + 3 * H}`)).body.results,
  };
}

async function send(w: TestApp, lines: object[]) {
  const r = await w.ingest(lines);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.accepted, lines.length, JSON.stringify(r.body));
}

for (const mode of MODES) {
  test(`backfill is safe: re-sending a counter's and an interval series' history changes no energy answer; a corrected reading changes only its buckets (${mode})`, {
    timeout: 120_000,
  }, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const described = await w.request(`/api/v1/series/${INTERVAL}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ unit: 'kWh', kind: 'interval', interval_s: 1800 }),
    });
    assert.equal(described.status, 201, JSON.stringify(described.body));
    await send(w, history());
    const first = await answers(w);
    assert.deepEqual(first.counter, { values: [1, 2.6, 0.4], total: 4 });
    assert.deepEqual(first.interval, { values: [1.2, 0.6, 1.2], total: 3 });
    // (101.5 − 101.0) / 3 + (103.6 − 101.5)
    assert.deepEqual(first.counterFrom0110, { values: [round(0.5 / 3 + 2.1)], total: round(0.5 / 3 + 2.1) });
    assert.deepEqual(
      first.raw.map((s: { points: unknown[] }) => s.points.length),
      [METER.length, USAGE.length],
    );

    // the same history again, in another order and in two requests
    const again = history().reverse();
    await send(w, again.slice(0, 7));
    await send(w, again.slice(7));
    assert.deepEqual(await answers(w), first, 'answers after re-sending');
    // and once more through `wattline ingest` of a file
    const { 'history.ndjson': file } = writeFiles(t, {
      'history.ndjson': `${history()
        .map((l) => JSON.stringify(l))
        .join('\n')}\n`,
    });
    const run = await wattline(['ingest', file, '--url', w.url, '--key', w.key]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), `accepted ${METER.length + USAGE.length}, invalid 0`);
    assert.deepEqual(await answers(w), first, 'answers after re-sending a file');
    await w.app.readings.compactNow();
    assert.deepEqual(await answers(w), first, 'answers after compaction');

    // corrections: the meter read 101.2 at 01:00, not 101.0; the 01:30 half-hour used 1.0 kWh, not 0.4
    await send(w, [
      { series: COUNTER, ts: iso(T0 + H), value: 101.2 },
      { series: INTERVAL, ts: iso(T0 + 90 * M), value: 1.0 },
    ]);
    const corrected = await answers(w);
    // the first hour gains what the second loses; the third is untouched
    assert.deepEqual(corrected.counter, { values: [1.2, 2.4, 0.4], total: 4 });
    assert.deepEqual(corrected.interval, { values: [1.2, 1.2, 1.2], total: 3.6 });
    // the reading before the range is the corrected one: (101.5 − 101.2) / 3 + 2.1
    assert.deepEqual(corrected.counterFrom0110, { values: [round(0.3 / 3 + 2.1)], total: round(0.3 / 3 + 2.1) });
    const rawCounter = corrected.raw[0].points.map((p: { value: number }) => p.value);
    assert.deepEqual(
      rawCounter,
      METER.map((v, i) => (i === 4 ? 101.2 : v)),
    );
    await w.app.readings.compactNow();
    assert.deepEqual(await answers(w), corrected, 'corrected answers after compaction');
  });
}
