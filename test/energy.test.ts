import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeriesDescription } from '../src/modules/readings/index.js';
import { MODES, type TestApp, buildMode } from './helpers.js';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2024, 5, 1); // 2024-06-01T00:00Z
const iso = (ms: number) => new Date(ms).toISOString();
const round = (v: number | null) => (v === null ? null : Math.round(v * 1e9) / 1e9);

async function load(w: TestApp, description: SeriesDescription, rows: [number, number][]) {
  await w.app.readings.describe([description]);
  for (let i = 0; i < rows.length; i += 10_000) {
    const sent = await w.ingest(
      rows.slice(i, i + 10_000).map(([ts, value]) => ({ series: description.key, ts, value })),
    );
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
  }
}

async function energy(w: TestApp, query: string) {
  const r = await w.request(`/api/v1/energy?${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results.map((s: { points: { value: number | null }[]; total: number }) => ({
    ...s,
    values: s.points.map((p) => round(p.value)),
    total: round(s.total),
  }));
}

for (const mode of MODES) {
  test(`energy by kind: a counter with a reset, a power gauge, a month with a clock change (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    // a kWh meter read every 15 minutes, reset at 00:45
    const meter = [100.0, 100.4, 100.8, 0.3, 0.7, 1.1, 1.5, 1.9, 2.3];
    await load(
      w,
      { key: 'home/meter/import', unit: 'kWh', kind: 'counter' },
      meter.map((v, i) => [T0 + i * 15 * M, v]),
    );
    const range = `start=${iso(T0)}&end=${iso(T0 + 3 * H)}`;
    const [hourly] = await energy(w, `series=home/meter/import&${range}&window=1h`);
    assert.deepEqual([hourly.method, hourly.values, hourly.total], ['increase', [1.5, 1.6, null], 3.1]);
    const [daily] = await energy(
      w,
      `series=home/meter/import&start=${iso(T0)}&end=${iso(T0 + 24 * H)}&window=1d&unit=Wh`,
    );
    assert.deepEqual(daily.values, [3100]);

    // 1 kW (sent in W) every 10 s for 90 minutes: 1.5 kWh, 1.0 then 0.5 by hour
    const power: [number, number][] = [];
    for (let t = T0; t <= T0 + 90 * M; t += 10_000) power.push([t, 1000]);
    await load(w, { key: 'home/meter/power', unit: 'W', kind: 'gauge' }, power);
    const [p] = await energy(w, `series=home/meter/power&start=${iso(T0)}&end=${iso(T0 + 2 * H)}&window=1h`);
    assert.deepEqual([p.method, p.values, p.total], ['integral', [1, 0.5], 1.5]);

    // October 2024 in London: 31 local days, the 27th 25 hours long; a constant 1 kW
    const start = Date.parse('2024-09-30T23:00:00Z');
    const end = Date.parse('2024-11-01T00:00:00Z');
    const load1kw: [number, number][] = [];
    for (let t = start; t <= end; t += 10 * M) load1kw.push([t, 1]);
    await load(w, { key: 'office/hvac/power', unit: 'kW', kind: 'gauge' }, load1kw);
    const month = `series=office/hvac/power&start=${iso(start)}&end=${iso(end)}&tz=Europe/London`;
    const [days] = await energy(w, `${month}&window=1d`);
    assert.equal(days.values.length, 31);
    assert.deepEqual(
      days.values.flatMap((v: number, i: number) => (v === 24 ? [] : [[i + 1, v]])),
      [[27, 25]],
    );
    assert.equal(days.points[26].time, '2024-10-27T00:00:00.000+01:00');
    const [whole] = await energy(w, `${month}&window=month`);
    assert.deepEqual(whole.values, [745]);
  });

  test(`cost against 15-minute prices and a standing charge; carbon with a missing slot (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    // half-hourly usage: 1 kWh then 2 kWh
    await load(w, { key: 'meter/usage', unit: 'kWh', kind: 'interval', intervalS: 1800 }, [
      [T0, 1],
      [T0 + 30 * M, 2],
    ]);
    // a 15-minute tariff: 10, 20, 30, 40 p/kWh
    await load(
      w,
      { key: 'tariff/agile', unit: 'p/kWh', kind: 'gauge', intervalS: 900 },
      [10, 20, 30, 40].map((p, i) => [T0 + i * 15 * M, p]),
    );
    // 48 p a day, in force since long before
    await load(w, { key: 'tariff/standing', unit: 'p/day', kind: 'gauge' }, [[T0 - 30 * 24 * H, 48]]);
    const cost = await w.request(
      `/api/v1/energy/cost?energy=meter/usage&tariff=tariff/agile&standing=tariff/standing&start=${iso(T0)}&end=${iso(T0 + H)}&window=30m`,
    );
    assert.equal(cost.status, 200, JSON.stringify(cost.body));
    // each quarter of the half-hourly energy at its own price: 0.5×10 + 0.5×20, then 1×30 + 1×40
    assert.deepEqual(
      cost.body.buckets.map((b: Record<string, number>) => [b.energy_kwh, b.cost, b.standing_charge, b.missing_slots]),
      [
        [1, 15, 1, 0],
        [2, 70, 1, 0],
      ],
    );
    assert.deepEqual(cost.body.totals, {
      energy_kwh: 3,
      cost: 85,
      standing_charge: 2,
      total: 87,
      effective_price_per_kwh: 85 / 3,
      missing_slots: 0,
      unpriced_kwh: 0,
    });

    // carbon intensity every half-hour, the second slot missing: counted, not taken as zero
    await load(w, { key: 'grid/intensity', unit: 'gCO2/kWh', kind: 'gauge', intervalS: 1800 }, [[T0, 200]]);
    const carbon = await w.request(
      `/api/v1/energy/carbon?energy=meter/usage&intensity=grid/intensity&start=${iso(T0)}&end=${iso(T0 + H)}`,
    );
    assert.equal(carbon.status, 200, JSON.stringify(carbon.body));
    assert.deepEqual(carbon.body.totals, {
      energy_kwh: 3,
      carbon_g: 200,
      average_g_per_kwh: 200,
      missing_slots: 1,
      unknown_kwh: 2,
    });
  });

  test(`jitter, gaps and a day/night tariff, by hand (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    // a counter: 0.05 % down is jitter (the rise after it counts from 100, not 99.95); then 2.5 hours
    // without a reading, whose 3 kWh go whole to the hour of the reading that ends the gap
    await load(w, { key: 'meter/jitter', unit: 'kWh', kind: 'counter' }, [
      [T0, 100],
      [T0 + 15 * M, 99.95],
      [T0 + 30 * M, 100.2],
      [T0 + 3 * H, 103.2],
    ]);
    const [counter] = await energy(w, `series=meter/jitter&start=${iso(T0)}&end=${iso(T0 + 4 * H)}&window=1h`);
    assert.deepEqual([counter.values, counter.total], [[0.2, null, null, 3], 3.2]);

    // a 2 kW gauge read every minute, silent from 00:30 to 02:00: the gap is not bridged
    const rows: [number, number][] = [];
    for (let t = T0; t <= T0 + 30 * M; t += M) rows.push([t, 2]);
    for (let t = T0 + 2 * H; t <= T0 + 3 * H; t += M) rows.push([t, 2]);
    await load(w, { key: 'heater/power', unit: 'kW', kind: 'gauge' }, rows);
    const [gauge] = await energy(w, `series=heater/power&start=${iso(T0)}&end=${iso(T0 + 3 * H)}&window=1h`);
    assert.deepEqual([gauge.values, gauge.total], [[1, null, 2], 3]);

    // the same heater under a day/night tariff: 8 p from 00:30 to 07:30, 30 p otherwise
    await load(w, { key: 'tariff/economy7', unit: 'p/kWh', kind: 'gauge' }, [
      [T0 - 16.5 * H, 30],
      [T0 + 0.5 * H, 8],
      [T0 + 7.5 * H, 30],
    ]);
    const cost = await w.request(
      `/api/v1/energy/cost?energy=heater/power&tariff=tariff/economy7&start=${iso(T0)}&end=${iso(T0 + 3 * H)}&window=1h`,
    );
    assert.equal(cost.status, 200, JSON.stringify(cost.body));
    // 00:00–00:30 at 30 p (1 kWh), 02:00–03:00 at 8 p (2 kWh)
    assert.deepEqual(
      cost.body.buckets.map((b: { cost: number }) => round(b.cost)),
      [30, 0, 16],
    );
    assert.equal(round(cost.body.totals.effective_price_per_kwh), round(46 / 3));
  });

  test(`energy of the wrong series is a 400 naming the parameter (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await load(w, { key: 'room/temp', unit: '°C', kind: 'gauge' }, [[T0, 21]]);
    await load(w, { key: 'grid/voltage', unit: 'V', kind: 'gauge' }, [[T0, 230]]);
    const range = `start=${iso(T0)}&end=${iso(T0 + H)}`;
    for (const [query, field, words] of [
      [`series=room/temp&${range}`, 'series', /room\/temp.*neither power nor energy/],
      [`series=nowhere&${range}`, 'series', /does not exist/],
      [`series=grid/voltage&${range}&unit=V`, 'unit', /energy unit/],
      [`series=room/temp&${range}&window=fortnight`, 'window', /week, month/],
      [`series=room/temp&start=${iso(T0)}&end=${iso(T0)}`, 'end', /after start/],
    ] as const) {
      const r = await w.request(`/api/v1/energy?${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.field, field, query);
      assert.match(r.body.error, words, query);
    }
  });
}
