import { createMulberry32 } from '../bench/lib/power-readings.js';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { energyPerBucket } from '../src/core/energy/by-kind.js';
import { bucketEdges, type EnergyWindow, refineEdges } from '../src/core/energy/edges.js';
import type { Reading } from '../src/core/readings.js';
import { loadMigrations, openStore } from '../src/core/store/index.js';
import { readAround } from '../src/modules/readings/around.js';
import { energyBuckets } from '../src/modules/readings/energy/buckets.js';
import { openEngine } from '../src/modules/readings/engines/index.js';
import type { ReadingsStorage, SeriesDescription } from '../src/modules/readings/storage.js';
import { batchOf } from '../src/modules/readings/test-engine.js';
import { buildMode, dropSchema, MODES, tempDir, uniqueSchema } from './helpers.js';
import { needService, services } from './services.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const T0 = Date.UTC(2024, 8, 20); // 2024-09-20T00:00Z: the data runs past Europe/London's clock change
const options = { maxGapMs: H, resetTolerance: 0.001 };

/** A readings engine on its own store: a temp DuckDB file, or a fresh PostgreSQL schema. */
async function openStorage(t: TestContext, mode: (typeof MODES)[number]): Promise<ReadingsStorage | undefined> {
  let store: Awaited<ReturnType<typeof openStore>>;
  if (mode === 'embedded') {
    const dir = tempDir();
    store = await openStore({ dataDir: dir, poolSize: 2 });
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  } else {
    if (!(await needService(t, 'postgres'))) return undefined;
    const schema = uniqueSchema('wattline_energy_sql');
    store = await openStore({ dataDir: '', databaseUrl: services.postgres.url, poolSize: 4, schema });
    t.after(() => dropSchema(schema));
  }
  await store.migrate('readings', loadMigrations(path.join('src', 'modules', 'readings', 'migrations'), store.kind));
  const storage = await openEngine(store, { catalogSaveMs: 3_600_000 });
  t.after(async () => {
    await storage.stop();
    await store.close();
  });
  return storage;
}

/** 40 days of readings of one series at irregular times, with gaps; counters also reset and jitter. */
function generate(random: () => number, key: string, kind: SeriesDescription['kind']): Reading[] {
  const rows: Reading[] = [];
  let ts = T0 + Math.floor(random() * H);
  let meter = 1000 * random();
  while (ts < T0 + 40 * D) {
    let value: number;
    if (kind === 'counter') {
      const r = random();
      if (r < 0.002)
        meter = random() * 5; // a reset
      else if (r < 0.05)
        meter -= meter * 0.0005 * random(); // jitter, under the tolerance
      else meter += random() * 0.5;
      value = meter;
    } else value = kind === 'interval' ? random() * 2 : 3000 * random();
    rows.push({ series: key, ts, value });
    // mostly 10 s – 20 min apart (interval series: whole 15 minutes), sometimes a gap of hours
    const gap = random() < 0.01 ? H + random() * 5 * H : random() * 20 * M;
    ts += kind === 'interval' ? 15 * M * Math.max(1, Math.round(gap / (15 * M))) : Math.max(1000, Math.floor(gap));
  }
  return rows;
}

const SERIES: SeriesDescription[] = [
  { key: 'c/1', unit: 'kWh', kind: 'counter' },
  { key: 'c/2', unit: 'Wh', kind: 'counter' },
  { key: 'g/1', unit: 'W', kind: 'gauge' },
  { key: 'g/2', unit: 'kW', kind: 'gauge' },
  { key: 'i/1', unit: 'kWh', kind: 'interval', intervalS: 900 },
  { key: 'i/2', unit: 'Wh', kind: 'interval', intervalS: 1800 },
  { key: 'i/3', unit: 'kWh', kind: 'interval' },
];

/** Ranges not aligned to their buckets, and one price-like refinement (the cost route's edges). */
const random = createMulberry32(13);
const CASES: { name: string; edges: Float64Array; zone: string }[] = [
  ...(
    [
      ['1h', 'UTC'],
      ['15m', 'UTC'],
      ['1d', 'UTC'],
      ['1d', 'Europe/London'],
      ['week', 'America/New_York'],
      ['month', 'Europe/London'],
      [undefined, 'UTC'],
    ] as [EnergyWindow | undefined, string][]
  ).map(([window, zone]) => {
    const start = T0 + 2 * D + 7 * M + 13_000;
    const end = T0 + 38 * D - 3 * H - 1234;
    return { name: `${window ?? 'one bucket'} in ${zone}`, edges: bucketEdges(start, end, window, zone), zone };
  }),
  {
    name: '1d in Asia/Kolkata cut at random half hours',
    edges: refineEdges(
      bucketEdges(T0 - D, T0 + 41 * D, '1d', 'Asia/Kolkata'),
      Array.from({ length: 300 }, () => T0 + Math.floor(random() * 40 * 48) * 30 * M),
    ),
    zone: 'Asia/Kolkata',
  },
];

for (const mode of MODES) {
  test(`energy summed in the store equals the JS arithmetic on random readings (${mode})`, async (t) => {
    const storage = await openStorage(t, mode);
    if (!storage) return;
    const random = createMulberry32(42);
    await storage.describe(SERIES);
    const all = SERIES.flatMap((s) => generate(random, s.key, s.kind));
    await storage.write([batchOf(all)], all.length);
    // some readings sent again with new values: the last write wins (dirty days in DuckDB)
    const resent = all.filter(() => random() < 0.01).map((r) => ({ ...r, value: r.value + 0.25 }));
    await storage.write([batchOf(resent)], resent.length);

    const entries = await storage.series(SERIES.map((s) => s.key));
    for (const { name, edges, zone } of CASES) {
      const range = { startMs: edges[0], endMs: edges[edges.length - 1] };
      const around = await readAround(storage, { series: SERIES.map((s) => s.key), ...range, maxReadings: 1e7 });
      const sql = await energyBuckets(storage, {
        entries,
        edges,
        zone,
        to: 'kWh',
        options,
        sqlFrom: 0,
        maxReadings: 1e7,
      });
      for (const entry of entries) {
        const js = energyPerBucket(entry, around.get(entry.key)!.points, edges, 'kWh', options);
        const got = sql.get(entry.key)!;
        assert.equal(got.method, js.method);
        assert.deepEqual(got.covered, js.covered, `${name}, ${entry.key}: covered buckets`);
        for (let i = 0; i < js.values.length; i++) {
          const tolerance = 1e-9 * Math.max(1, Math.abs(js.values[i]));
          assert.ok(
            Math.abs(got.values[i] - js.values[i]) <= tolerance,
            `${name}, ${entry.key}, bucket ${i}: ${got.values[i]} from the store, ${js.values[i]} in JS`,
          );
        }
      }
    }
  });

  test(`energy takes up to 1000 series, bounded by energy.maxReadings (${mode})`, async (t) => {
    const w = await buildMode(t, mode, { 'energy.maxReadings': 1000 });
    if (!w) return;
    const keys = Array.from({ length: 150 }, (_, i) => `fleet/${i}/power`);
    await w.app.readings.describe(keys.map((key) => ({ key, unit: 'W', kind: 'gauge' as const })));
    const sent = await w.ingest(
      keys.flatMap((series) => [0, 1, 2, 3, 4].map((i) => ({ series, ts: T0 + i * M, value: 60 }))),
    );
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const range = `start=${T0}&end=${T0 + H}`;
    const ok = await w.request(`/api/v1/energy?series=${keys.join(',')}&${range}`);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.results.length, 150);
    assert.equal(Math.round(ok.body.results[149].total * 1e9) / 1e9, 0.004); // 60 W for 4 minutes
    // 750 readings in the range are fine, more than 1000 a 400
    const more = keys.flatMap((series) => [5, 6, 7].map((i) => ({ series, ts: T0 + i * M, value: 60 })));
    assert.equal((await w.ingest(more)).status, 200);
    const over = await w.request(`/api/v1/energy?series=${keys.join(',')}&${range}`);
    assert.equal(over.status, 400);
    assert.equal(over.body.code, 'too_many_readings');
    // outside the range's readings do not count
    const later = await w.request(`/api/v1/energy?series=${keys.join(',')}&start=${T0 + 6 * M}&end=${T0 + H}`);
    assert.equal(later.status, 200, JSON.stringify(later.body));
  });
}
