/**
 * Energy arithmetic benchmark (issue 13, "Speed"): what `/api/v1/energy` and `/api/v1/energy/cost`
 * cost next to a plain `avg` of the same range and window on `/api/v1/query`, which reads the same
 * readings. One server (in a child process) holds three data sets:
 * - a year (2023) of 1-minute power readings for one series (525,600 readings, W gauge): hourly
 *   `integral` in kWh vs hourly AVG;
 * - the ingest benchmark's 200 series × 10,000 one-minute points (W gauges, same generator and
 *   seed): daily energy of every series vs every series' daily AVG, one request each (the energy
 *   route takes up to 1000 series; it took 100 until issue 13's SQL path, so two requests then);
 * - a year of half-hourly meter readings (kWh counter) and half-hourly prices (p/kWh gauge): daily
 *   `/energy/cost` vs the usage series' daily AVG.
 * Each pair is timed alternately (energy, then avg, per iteration) after a warm-up, so both sides
 * see the same machine; the query cache is off (`query.cacheSize=0`) and each query's inclusive end
 * moves by a millisecond anyway. Every answer is checked against values computed here.
 */
import path from 'node:path';
import { pollCatalog, type CatalogEntry } from './lib/catalog.js';
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import {
  buildNdjsonBodies,
  createMulberry32,
  DAY_MS,
  generatePowerReadings,
  HOUR_MS,
  MINUTE_MS,
  type NdjsonBody,
  type PowerReadings,
} from './lib/power-readings.js';
import { describeMachine, formatMs, median, percentile, printTable, writeResults } from './lib/report.js';
import { describeStack, EMBEDDED, type Stack } from './lib/server-stack.js';

const WARMUP = 3;
const ITERATIONS = 20;
const LINES_PER_BODY = 5_000;
const STORED_DEADLINE_MS = 300_000;
/** W·ms → kWh */
const W_MS_TO_KWH = 1 / HOUR_MS / 1000;

const YEAR_START = Date.UTC(2023, 0, 1);
const YEAR_END = Date.UTC(2024, 0, 1);
const YEAR_MINUTES = (YEAR_END - YEAR_START) / MINUTE_MS; // 525,600
const YEAR_KEY = 'bench/year-power';

const FLEET_SEED = 20240101; // the ingest benchmark's
const FLEET_SERIES = 200;
const FLEET_POINTS = 10_000;
const FLEET_START = Date.UTC(2024, 0, 1);
const FLEET_DAYS = Math.ceil((FLEET_POINTS * MINUTE_MS) / DAY_MS); // 7
const ENERGY_MAX_SERIES = 1000; // energyParams' limit

const HALF_HOUR_MS = 30 * MINUTE_MS;
const HALF_HOURS = (YEAR_END - YEAR_START) / HALF_HOUR_MS; // 17,520
const USAGE_KEY = 'bench/usage';
const PRICE_KEY = 'bench/price';

interface Side {
  /** The requests one timed iteration makes, one after the other. */
  paths: () => string[];
  check: (texts: string[]) => void;
}

interface Row {
  id: string;
  workload: string;
  energyMs: number[];
  avgMs: number[];
}

export async function run(options: { stack?: Stack } = {}): Promise<void> {
  const startedAt = new Date();
  const stack = options.stack ?? EMBEDDED;
  const year = {
    ...generatePowerReadings({ seed: 2023, seriesCount: 1, pointCount: YEAR_MINUTES, firstTsMs: YEAR_START }),
    seriesKeys: [YEAR_KEY],
  };
  const fleet = generatePowerReadings({
    seed: FLEET_SEED,
    seriesCount: FLEET_SERIES,
    pointCount: FLEET_POINTS,
    firstTsMs: FLEET_START,
  });
  const halfHourly = generateHalfHourly();
  const bodies = [
    ...buildNdjsonBodies(year, 0, 1, LINES_PER_BODY, ',"unit":"W","kind":"gauge"'),
    ...buildNdjsonBodies(fleet, 0, FLEET_SERIES, LINES_PER_BODY, ',"unit":"W","kind":"gauge"'),
    ...halfHourlyBodies(halfHourly),
  ];
  const expectedCounts = new Map<string, number>([
    [YEAR_KEY, YEAR_MINUTES],
    ...fleet.seriesKeys.map((k) => [k, FLEET_POINTS] as [string, number]),
    [USAGE_KEY, HALF_HOURS],
    [PRICE_KEY, HALF_HOURS],
  ]);

  const rows = await withStackDataDir(stack, (dataDir, env) =>
    withServerProcess({ dataDir, env: { ...env, WATTLINE_QUERY_CACHE_SIZE: '0' } }, async (server, client) => {
      const ingestStarted = performance.now();
      for (const body of bodies) await ingest(client, server.key, body);
      await pollCatalog(client, (c) => complete(c, expectedCounts), {
        timeoutMs: STORED_DEADLINE_MS,
        describe: (c) => `the catalog does not show every reading stored: ${c.length} series`,
      });
      await server.compact();
      console.log(
        `ingested and compacted ${[...expectedCounts.values()].reduce((a, b) => a + b, 0).toLocaleString('en-US')} readings in ${((performance.now() - ingestStarted) / 1000).toFixed(1)} s`,
      );
      const hitsBefore = await readMetric(client, 'query_cache_hits_total');
      const out = [
        await measure(client, 'year-hourly', `1 series, a year of 1-minute W (525,600), 1h window`, yearPair(year)),
        await measure(
          client,
          'fleet-daily',
          `${FLEET_SERIES} series × 10,000 1-minute W (2M), 1d window`,
          fleetPair(fleet),
        ),
        await measure(
          client,
          'cost-daily',
          `cost: a year of half-hourly kWh counter + p/kWh prices, 1d window`,
          costPair(halfHourly),
        ),
      ];
      const hits = (await readMetric(client, 'query_cache_hits_total')) - hitsBefore;
      if (hits !== 0) throw new Error(`the query cache answered ${hits} timed queries`);
      return out;
    }),
  );

  console.log();
  const shown = (ms: number[]) => `${formatMs(median(ms))} (p95 ${formatMs(percentile(ms, 95))})`;
  printTable(
    ['workload', 'energy route', 'plain avg (/api/v1/query)', 'energy / avg'],
    rows.map((r) => [
      `${r.workload} (median of ${ITERATIONS})`,
      shown(r.energyMs),
      shown(r.avgMs),
      `${(median(r.energyMs) / median(r.avgMs)).toFixed(2)}×`,
    ]),
  );
  const file = writeResults('energy', startedAt, {
    benchmark: 'energy',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    stack: describeStack(stack),
    workload: { warmup: WARMUP, iterations: ITERATIONS, queryCacheSize: 0 },
    rows: rows.map((r) => ({
      id: r.id,
      workload: r.workload,
      energy: { medianMs: median(r.energyMs), p95Ms: percentile(r.energyMs, 95), samplesMs: r.energyMs },
      avg: { medianMs: median(r.avgMs), p95Ms: percentile(r.avgMs, 95), samplesMs: r.avgMs },
      ratio: median(r.energyMs) / median(r.avgMs),
    })),
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

/** Hourly integral of the year series vs its hourly AVG. */
function yearPair(year: PowerReadings): { energy: Side; avg: Side } {
  const v = year.valuesW;
  const expected = new Float64Array(YEAR_MINUTES / 60);
  // trapezoid of minute m to m+1 lies in the hour of m; the last minute of the year has no right neighbour
  for (let m = 0; m < YEAR_MINUTES - 1; m++) expected[Math.floor(m / 60)] += ((v[m] + v[m + 1]) / 2) * MINUTE_MS;
  for (let h = 0; h < expected.length; h++) expected[h] *= W_MS_TO_KWH;
  const end = movingEnd(YEAR_START + (YEAR_MINUTES - 1) * MINUTE_MS);
  return {
    energy: {
      paths: () => [`/api/v1/energy?series=${YEAR_KEY}&start=${YEAR_START}&end=${YEAR_END}&window=1h&unit=kWh`],
      check: ([text]) => checkEnergy(text, [YEAR_KEY], [expected]),
    },
    avg: {
      paths: () => [`/api/v1/query?series=${YEAR_KEY}&start=${YEAR_START}&end=${end()}&window=1h&agg=avg`],
      check: ([text]) => checkBucketCounts(text, [YEAR_KEY], expected.length),
    },
  };
}

/** Daily energy of all 200 series vs all 200 series' daily AVG, one request each. */
function fleetPair(fleet: PowerReadings): { energy: Side; avg: Side } {
  const expected = fleet.seriesKeys.map((_, s) => {
    const days = new Float64Array(FLEET_DAYS);
    const v = fleet.valuesW.subarray(s * FLEET_POINTS, (s + 1) * FLEET_POINTS);
    for (let m = 0; m < FLEET_POINTS - 1; m++) days[Math.floor(m / 1440)] += ((v[m] + v[m + 1]) / 2) * MINUTE_MS;
    return days.map((x) => x * W_MS_TO_KWH);
  });
  const halves: string[][] = [];
  for (let i = 0; i < FLEET_SERIES; i += ENERGY_MAX_SERIES)
    halves.push(fleet.seriesKeys.slice(i, i + ENERGY_MAX_SERIES));
  const end = movingEnd(FLEET_START + (FLEET_POINTS - 1) * MINUTE_MS);
  const fleetEnd = FLEET_START + FLEET_DAYS * DAY_MS;
  return {
    energy: {
      paths: () =>
        halves.map(
          (keys) => `/api/v1/energy?series=${keys.join(',')}&start=${FLEET_START}&end=${fleetEnd}&window=1d&unit=kWh`,
        ),
      check: (texts) => {
        texts.forEach((text, i) => {
          checkEnergy(text, halves[i], expected.slice(i * ENERGY_MAX_SERIES, (i + 1) * ENERGY_MAX_SERIES));
        });
      },
    },
    avg: {
      paths: () => [
        `/api/v1/query?series=${fleet.seriesKeys.join(',')}&start=${FLEET_START}&end=${end()}&window=1d&agg=avg`,
      ],
      check: ([text]) => checkBucketCounts(text, fleet.seriesKeys, FLEET_DAYS),
    },
  };
}

/** Daily cost of the half-hourly meter at half-hourly prices vs the meter's daily AVG. */
function costPair(data: HalfHourly): { energy: Side; avg: Side } {
  const { usageKwh, priceP } = data;
  const energy = new Float64Array(HALF_HOURS / 48);
  const cost = new Float64Array(HALF_HOURS / 48);
  for (let i = 0; i < HALF_HOURS - 1; i++) {
    const kwh = usageKwh[i + 1] - usageKwh[i];
    energy[Math.floor(i / 48)] += kwh;
    cost[Math.floor(i / 48)] += kwh * priceP[i];
  }
  const end = movingEnd(YEAR_START + (HALF_HOURS - 1) * HALF_HOUR_MS);
  return {
    energy: {
      paths: () => [
        `/api/v1/energy/cost?energy=${USAGE_KEY}&tariff=${PRICE_KEY}&start=${YEAR_START}&end=${YEAR_END}&window=1d`,
      ],
      check: ([text]) => {
        const { buckets } = JSON.parse(text) as { buckets: { energy_kwh: number | null; cost: number }[] };
        if (buckets.length !== energy.length)
          throw new Error(`cost answered ${buckets.length} days, expected ${energy.length}`);
        buckets.forEach((b, d) => {
          if (!close(b.energy_kwh ?? Number.NaN, energy[d]) || !close(b.cost, cost[d]))
            throw new Error(
              `cost of day ${d} is ${b.energy_kwh} kWh, ${b.cost} p; expected ${energy[d]} kWh, ${cost[d]} p`,
            );
        });
      },
    },
    avg: {
      paths: () => [`/api/v1/query?series=${USAGE_KEY}&start=${YEAR_START}&end=${end()}&window=1d&agg=avg`],
      check: ([text]) => checkBucketCounts(text, [USAGE_KEY], energy.length),
    },
  };
}

/**
 * `WARMUP` untimed, then `ITERATIONS` timed iterations, each the energy side then the avg side
 * (full HTTP round trips, measured client-side; answers are checked outside the timing).
 */
async function measure(
  client: HttpClient,
  id: string,
  workload: string,
  pair: { energy: Side; avg: Side },
): Promise<Row> {
  const row: Row = { id, workload, energyMs: [], avgMs: [] };
  const time = async (side: Side) => {
    const texts: string[] = [];
    let elapsedMs = 0;
    for (const p of side.paths()) {
      const started = performance.now();
      const res = await client.get(p);
      elapsedMs += performance.now() - started;
      if (res.status !== 200)
        throw new Error(`GET ${p.slice(0, 200)} answered ${res.status}: ${res.text.slice(0, 500)}`);
      texts.push(res.text);
    }
    side.check(texts);
    return elapsedMs;
  };
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const energyMs = await time(pair.energy);
    const avgMs = await time(pair.avg);
    if (i >= WARMUP) {
      row.energyMs.push(energyMs);
      row.avgMs.push(avgMs);
    }
  }
  console.log(`${id}: energy ${formatMs(median(row.energyMs))}, avg ${formatMs(median(row.avgMs))}`);
  return row;
}

interface HalfHourly {
  /** Meter reading (kWh, cumulative) at each half hour of 2023. */
  usageKwh: Float64Array;
  /** Price (p/kWh) from each half hour. */
  priceP: Float64Array;
}

/** A household meter (0.05–0.85 kWh per half hour, more in the evening) and a day/night price with noise. */
function generateHalfHourly(): HalfHourly {
  const random = createMulberry32(2023_0630);
  const usageKwh = new Float64Array(HALF_HOURS);
  const priceP = new Float64Array(HALF_HOURS);
  let wh = 12_345_678; // whole Wh, so readings are exact decimals in kWh
  for (let i = 0; i < HALF_HOURS; i++) {
    const slot = i % 48;
    usageKwh[i] = wh / 1000;
    priceP[i] = Math.round(((slot < 14 ? 9 : slot >= 32 && slot < 38 ? 38 : 24) + 4 * random()) * 100) / 100;
    wh += Math.round(50 + (slot >= 34 && slot < 44 ? 800 : 300) * random());
  }
  return { usageKwh, priceP };
}

function halfHourlyBodies({ usageKwh, priceP }: HalfHourly): NdjsonBody[] {
  const lines: string[] = [];
  for (let i = 0; i < HALF_HOURS; i++) {
    const ts = YEAR_START + i * HALF_HOUR_MS;
    lines.push(`{"series":"${USAGE_KEY}","value":${usageKwh[i]},"ts":${ts},"kind":"counter","unit":"kWh"}`);
    lines.push(`{"series":"${PRICE_KEY}","value":${priceP[i]},"ts":${ts},"kind":"gauge","unit":"p/kWh"}`);
  }
  const bodies: NdjsonBody[] = [];
  for (let i = 0; i < lines.length; i += LINES_PER_BODY) {
    const part = lines.slice(i, i + LINES_PER_BODY);
    bodies.push({ bytes: Buffer.from(`${part.join('\n')}\n`), lines: part.length });
  }
  return bodies;
}

async function ingest(client: HttpClient, key: string, body: NdjsonBody) {
  const res = await client.post('/ingest', body.bytes, {
    authorization: `Bearer ${key}`,
    'content-type': 'application/x-ndjson',
  });
  const { accepted } = JSON.parse(res.text) as { accepted?: number };
  if (res.status !== 200 || accepted !== body.lines)
    throw new Error(
      `POST /ingest (${res.status}) accepted ${accepted} of ${body.lines} lines: ${res.text.slice(0, 500)}`,
    );
}

const complete = (catalog: CatalogEntry[], expected: Map<string, number>) =>
  catalog.length === expected.size && catalog.every((e) => expected.get(e.key) === e.count);

/** An inclusive query end that moves by a millisecond per call, staying before the next reading. */
function movingEnd(lastTs: number): () => number {
  let offset = 0;
  return () => lastTs + (offset++ % 1000);
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

function checkEnergy(text: string, keys: readonly string[], expected: readonly Float64Array[]) {
  const { results } = JSON.parse(text) as { results: { series: string; points: { value: number | null }[] }[] };
  if (results.length !== keys.length)
    throw new Error(`energy answered ${results.length} series, expected ${keys.length}`);
  results.forEach((r, i) => {
    const want = expected[i];
    if (r.series !== keys[i] || r.points.length !== want.length)
      throw new Error(
        `energy answered ${r.points.length} buckets for ${r.series}, expected ${want.length} for ${keys[i]}`,
      );
    r.points.forEach((p, j) => {
      if (!close(p.value ?? Number.NaN, want[j]))
        throw new Error(`energy of ${r.series} in bucket ${j} is ${p.value} kWh, expected ${want[j]}`);
    });
  });
}

function checkBucketCounts(text: string, keys: readonly string[], buckets: number) {
  const { results } = JSON.parse(text) as { results: { series: string; points: unknown[] }[] };
  if (results.length !== keys.length || results.some((r, i) => r.series !== keys[i] || r.points.length !== buckets))
    throw new Error(
      `query answered ${results.map((r) => `${r.series}: ${r.points.length}`).slice(0, 3)}…, expected ${buckets} buckets each`,
    );
}

/** A counter without labels from `/metrics`. */
async function readMetric(client: HttpClient, name: string): Promise<number> {
  const res = await client.get('/metrics');
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text);
  if (res.status !== 200 || !match) throw new Error(`/metrics (${res.status}) has no ${name}`);
  return Number(match[1]);
}
