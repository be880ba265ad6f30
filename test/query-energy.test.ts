import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeriesDescription } from '../src/modules/readings/index.js';
import { buildMode, MODES, type TestApp } from './helpers.js';

// /api/v1/query's energy arithmetic: increase, integral, interval sums under the interval, units
const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2024, 5, 1); // 2024-06-01T00:00Z
const round = (v: number | null) => (v === null ? null : Math.round(v * 1e9) / 1e9);

async function load(w: TestApp, description: SeriesDescription, rows: [number, number][]) {
  await w.app.readings.describe([description]);
  const sent = await w.ingest(rows.map(([ts, value]) => ({ series: description.key, ts, value })));
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
}

/** The results of a query as [series, unit, [[hh:mm, value]…]]. */
async function query(w: TestApp, params: string) {
  const r = await w.request(`/api/v1/query?${params}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results.map((s: { series: string; unit: string | null; points: { time: string; value: number }[] }) => [
    s.series,
    s.unit,
    s.points.map((p) => [p.time.slice(11, 16), round(p.value)]),
  ]);
}

// a kWh meter read every 15 minutes, reset at 00:45: +0.4 +0.4, reset to 0.3, then +0.4 every 15 minutes
const METER = [100.0, 100.4, 100.8, 0.3, 0.7, 1.1, 1.5, 1.9, 2.3];

for (const mode of MODES) {
  test(`increase of a counter with a reset, by hour, in its unit or another (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await load(
      w,
      { key: 'home/meter/import', unit: 'kWh', kind: 'counter' },
      METER.map((v, i) => [T0 + i * 15 * M, v]),
    );
    const range = `start=${T0}&end=${T0 + 3 * H - 1}&window=1h&agg=increase`;
    // 00:00–01:00: 0.4 + 0.4 + 0.3 (the reset) + 0.4; 01:00–02:00: 4 × 0.4; nothing after 02:00
    assert.deepEqual(await query(w, `series=home/meter/import,nope&${range}`), [
      [
        'home/meter/import',
        'kWh',
        [
          ['00:00', 1.5],
          ['01:00', 1.6],
        ],
      ],
      ['nope', null, []],
    ]);
    assert.deepEqual(await query(w, `series=home/meter/import&${range}&unit=Wh&fill=null`), [
      [
        'home/meter/import',
        'Wh',
        [
          ['00:00', 1500],
          ['01:00', 1600],
          ['02:00', null],
        ],
      ],
    ]);
    // a range starting mid-bucket: the bucket keeps its aligned label, its value only from 00:30
    assert.deepEqual(
      await query(w, `series=home/meter/import&start=${T0 + 30 * M}&end=${T0 + H - 1}&window=1h&agg=increase`),
      [['home/meter/import', 'kWh', [['00:00', 0.7]]]],
    );
  });

  test(`integral of a power gauge in kWh by hour; unit=kW on a W gauge's avg (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    // 1 kW, sent in W, every 10 s for 90 minutes: 1.0 kWh then 0.5 kWh
    const power: [number, number][] = [];
    for (let ts = T0; ts <= T0 + 90 * M; ts += 10_000) power.push([ts, 1000]);
    await load(w, { key: 'home/meter/power', unit: 'W', kind: 'gauge' }, power);
    const range = `series=home/meter/power&start=${T0}&end=${T0 + 2 * H - 1}&window=1h`;
    assert.deepEqual(await query(w, `${range}&agg=integral&unit=kWh`), [
      [
        'home/meter/power',
        'kWh',
        [
          ['00:00', 1],
          ['01:00', 0.5],
        ],
      ],
    ]);
    // without a unit: the energy unit that goes with the series' power unit
    assert.deepEqual(await query(w, `${range}&agg=integral`), [
      [
        'home/meter/power',
        'Wh',
        [
          ['00:00', 1000],
          ['01:00', 500],
        ],
      ],
    ]);
    await load(w, { key: 'site/load', unit: 'W', kind: 'gauge' }, [
      [T0, 1000],
      [T0 + 10 * M, 2000],
      [T0 + H, 4000],
    ]);
    const avg = `series=site/load&start=${T0}&end=${T0 + 2 * H - 1}&window=1h&agg=avg`;
    assert.deepEqual(await query(w, `${avg}&unit=kW`), [
      [
        'site/load',
        'kW',
        [
          ['00:00', 1.5],
          ['01:00', 4],
        ],
      ],
    ]);
    assert.deepEqual(await query(w, avg), [
      [
        'site/load',
        'W',
        [
          ['00:00', 1500],
          ['01:00', 4000],
        ],
      ],
    ]);
    // raw points convert too
    assert.deepEqual(await query(w, `series=site/load&start=${T0}&end=${T0 + 10 * M}&unit=kW`), [
      [
        'site/load',
        'kW',
        [
          ['00:00', 1],
          ['00:10', 2],
        ],
      ],
    ]);
    // a cached answer does not outlive a change of the series' unit
    await w.app.readings.describe([{ key: 'site/load', unit: 'kW', kind: 'gauge' }]);
    assert.deepEqual((await query(w, avg))[0].slice(0, 2), ['site/load', 'kW']);
  });

  test(`sum of a half-hourly interval series over 15 minutes gives half each (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await load(w, { key: 'meter/half-hourly', unit: 'kWh', kind: 'interval', intervalS: 1800 }, [
      [T0, 1],
      [T0 + 30 * M, 2],
    ]);
    const range = `series=meter/half-hourly&start=${T0}&end=${T0 + H - 1}&agg=sum`;
    assert.deepEqual(await query(w, `${range}&window=15m`), [
      [
        'meter/half-hourly',
        'kWh',
        [
          ['00:00', 0.5],
          ['00:15', 0.5],
          ['00:30', 1],
          ['00:45', 1],
        ],
      ],
    ]);
    assert.deepEqual(await query(w, `${range}&window=1h&unit=Wh`), [['meter/half-hourly', 'Wh', [['00:00', 3000]]]]);
    // a range starting inside a reading's interval still gets its share
    assert.deepEqual(
      await query(w, `series=meter/half-hourly&start=${T0 + 15 * M}&end=${T0 + 30 * M - 1}&agg=sum&window=5m`),
      [
        [
          'meter/half-hourly',
          'kWh',
          [
            ['00:15', round(1 / 6)],
            ['00:20', round(1 / 6)],
            ['00:25', round(1 / 6)],
          ],
        ],
      ],
    );
  });

  test(`increase on a gauge, integral of a non-power series and a unit that does not fit are 400s naming the parameter (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await load(w, { key: 'home/meter/power', unit: 'W', kind: 'gauge' }, [[T0, 1]]);
    await load(w, { key: 'grid/voltage', unit: 'V', kind: 'gauge' }, [[T0, 230]]);
    await load(w, { key: 'home/meter/import', unit: 'kWh', kind: 'counter' }, [[T0, 1]]);
    const check = async (params: string, field: string, words: RegExp) => {
      const r = await w.request(`/api/v1/query?start=${T0}&end=${T0 + H}&window=1h&${params}`);
      assert.equal(r.status, 400, params);
      assert.equal(r.body.field, field, params);
      assert.match(r.body.error, words, params);
    };
    await check('series=home/meter/power&agg=increase', 'agg', /"home\/meter\/power" is a gauge.*counter/);
    await check('series=grid/voltage&agg=integral', 'agg', /"grid\/voltage" is in V.*power/);
    await check('series=grid/voltage&agg=avg&unit=kWh', 'unit', /"grid\/voltage" is in V.*kWh/);
    await check('series=home/meter/power&agg=integral&unit=kW', 'unit', /kW/);
    await check('series=home/meter/import&agg=sum&unit=kW', 'unit', /kWh.*kW/);
    await check('series=home/meter/power&agg=count&unit=W', 'unit', /count/);
    await check('series=home/meter/power&agg=avg&unit=furlongs', 'unit', /furlongs/);
  });

  test(`a cached increase is dropped when a reading lands just outside its range (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    await load(w, { key: 'c', unit: 'kWh', kind: 'counter' }, [
      [T0, 0],
      [T0 + 30 * M, 1],
    ]);
    const params = `series=c&start=${T0}&end=${T0 + H - 1}&window=1h&agg=increase`;
    assert.deepEqual(await query(w, params), [['c', 'kWh', [['00:00', 1]]]]);
    // 00:30 → 01:30 used 2 kWh, half of it before 01:00
    await load(w, { key: 'c', unit: 'kWh', kind: 'counter' }, [[T0 + 90 * M, 3]]);
    assert.deepEqual(await query(w, params), [['c', 'kWh', [['00:00', 2]]]]);
  });
}
