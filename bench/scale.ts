/**
 * Scale benchmark (issue 19, point 3): a query's cost should follow the buckets it returns, not the
 * raw points under them. `BENCH_SCALE_SERIES` (default 1000) W gauges with one reading a minute over
 * `BENCH_SCALE_DAYS` (default 365) UTC days ending at today's UTC midnight, generated with SQL straight
 * into the embedded store (not over HTTP) in the layout the compactor leaves: each month that is over
 * in (series, ts) order (series slices of a few million rows a transaction) with its days rolled up
 * (`rollUpDay`), marked sorted and its rollups clustered (`clusterMonth`); the current month a day at
 * a time, sorted; then the series catalog with complete stats. The data directory is kept in the temp directory, named by
 * the two numbers and the layout (`wattline-bench-scale-<series>x<days>d-clustered`), and reused as it is by the next run
 * (delete it and its `.json` to start afresh).
 *
 * A server process on it (query answer cache off) then answers over HTTP, 20 timed repetitions
 * after 3 warm-ups, each moving the range's start by 1 ms (so the partial first hour is read from the
 * raw readings): (a) the daily average of every series over the whole range (target < 100 ms);
 * (b) one series' hourly average over the whole range (8,760 buckets for a year; target < 20 ms);
 * (c) for contrast, one series' hourly average over the last week. A query takes at most 1000 series
 * (the server's limit), so (a) is sent as requests of up to 1000 keys run concurrently (one request at
 * the default size); 1000 keys make a ~29 KB URL, over Node's 16 KB header limit, so the server runs
 * with `--max-http-header-size=262144` (NODE_OPTIONS), and with `query.maxPoints` raised to 10 million:
 * (a) is 365,000 buckets at the default size, over the default 100,000. The same plans are then timed on the engine
 * itself (`DuckDbReadings.aggregate` in this process, no HTTP or JSON) to show where the time goes.
 * Answers are checked: bucket counts, and one bucket's value against `avg(value)` of its raw rows.
 *
 * `BENCH_SCALE_FACTORS` (default `1`) runs the same at multiples of the series, each with its own
 * dataset: `1,10` adds 10× the series (10,000 by default), which needs ~10× the disk (tens of GB) and
 * the generation time (about an hour on 2 cores); its rows show each time's growth over the 1× row.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../src/core/store/index.js';
import { DuckDbReadings } from '../src/modules/readings/engines/duckdb/duckdb-readings.js';
import { clusterMonth, monthAfter, monthOf, rollUpDay } from '../src/modules/readings/engines/duckdb/rollups.js';
import type { AggregatePlan } from '../src/modules/readings/plan.js';
import { withServerProcess } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import { DAY_MS } from './lib/power-readings.js';
import { describeMachine, formatMs, median, percentile, printTable, writeResults } from './lib/report.js';
import { describeStack, EMBEDDED, isEmbedded, type Stack, stackServerEnv } from './lib/server-stack.js';

const SERIES = Number(process.env.BENCH_SCALE_SERIES ?? 1000);
const DAYS = Number(process.env.BENCH_SCALE_DAYS ?? 365);
const FACTORS = (process.env.BENCH_SCALE_FACTORS ?? '1').split(',').map(Number);
const WARMUPS = 3;
const REPS = 20;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const PER_DAY = 1440;
/** The server's limit of series per query (query.ts MAX_SERIES_PER_QUERY). */
const KEYS_PER_REQUEST = 1000;
const SERVER_ENV = {
  ...stackServerEnv(EMBEDDED).env,
  WATTLINE_QUERY_CACHE_SIZE: '0',
  // (a) is 365,000 buckets at 1000 series: over the default query.maxPoints (100,000)
  WATTLINE_QUERY_MAX_POINTS: '10000000',
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-http-header-size=262144`.trim(),
};

/** A reading's value: a daily cycle with a phase per series, plus 0–99 W of hashed noise. */
const VALUE_SQL = `1000 + 500 * sin(2 * pi() * ((ts % ${DAY_MS}) / ${DAY_MS}.0) + series_id) + CAST(hash(series_id, ts) % 100 AS DOUBLE)`;

interface Dataset {
  dataDir: string;
  series: number;
  days: number;
  /** UTC epoch ms: the first day's start and the last day's end (today's midnight when generated). */
  fromMs: number;
  toMs: number;
  rows: number;
  generationMs: number;
  dataBytes: number;
  /** Whether this run generated it (else it was kept from an earlier run). */
  generatedNow: boolean;
}

interface QueryResult {
  series: number;
  query: string;
  buckets: number;
  requests: number;
  answerBytes: number;
  httpMs: number[];
  engineMs: number[];
  targetMs?: number;
}

const keyWidth = (series: number) => Math.max(4, String(series).length);
const keyOf = (s: number, series: number) => `bench/scale/meter-${String(s).padStart(keyWidth(series), '0')}/power`;

export async function run(options: { stack?: Stack } = {}): Promise<void> {
  const startedAt = new Date();
  if (options.stack && !isEmbedded(options.stack))
    console.log(`the scale benchmark runs on the embedded stack only (asked: ${describeStack(options.stack)})`);
  if (FACTORS.some((f) => f > 1))
    console.log(
      `BENCH_SCALE_FACTORS=${FACTORS.join(',')}: each factor has its own dataset, ~factor× the disk and generation time of the 1× one`,
    );
  const datasets: Dataset[] = [];
  const results: QueryResult[] = [];
  for (const factor of FACTORS) {
    const dataset = await generated(SERIES * factor, DAYS);
    datasets.push(dataset);
    results.push(...(await measure(dataset)));
  }

  console.log();
  printTable(
    ['series', 'days', 'rows', 'generation', 'data size'],
    datasets.map((d) => [
      d.series.toLocaleString('en-US'),
      String(d.days),
      d.rows.toLocaleString('en-US'),
      `${(d.generationMs / 1000).toFixed(0)} s${d.generatedNow ? '' : ' (kept)'}`,
      formatBytes(d.dataBytes),
    ]),
  );
  console.log();
  const first = (query: string) => results.find((r) => r.query === query);
  printTable(
    [
      'series',
      'query',
      'buckets',
      'requests',
      'answer',
      'HTTP median',
      'HTTP p95',
      'engine median',
      'target',
      `growth vs ${SERIES.toLocaleString('en-US')}`,
    ],
    results.map((r) => {
      const http = median(r.httpMs);
      const base = first(r.query);
      const growth =
        base && base !== r
          ? `HTTP ×${(http / median(base.httpMs)).toFixed(1)}, engine ×${(median(r.engineMs) / median(base.engineMs)).toFixed(1)}`
          : '';
      return [
        r.series.toLocaleString('en-US'),
        r.query,
        r.buckets.toLocaleString('en-US'),
        String(r.requests),
        formatBytes(r.answerBytes),
        formatMs(http),
        formatMs(percentile(r.httpMs, 95)),
        formatMs(median(r.engineMs)),
        r.targetMs === undefined ? '' : `< ${r.targetMs} ms: ${http < r.targetMs ? 'met' : 'MISSED'}`,
        growth,
      ];
    }),
  );
  const workload = `W gauges × ${DAYS} days of 1-minute readings, generated into the embedded store sorted and rolled up; HTTP: median and p95 of ${REPS} after ${WARMUPS} warm-ups, query cache off; engine: DuckDbReadings.aggregate in-process`;
  console.log(`workload: ${workload}`);
  const file = writeResults('scale', startedAt, {
    benchmark: 'scale',
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    workload,
    datasets,
    results: results.map((r) => ({
      ...r,
      httpMedianMs: median(r.httpMs),
      httpP95Ms: percentile(r.httpMs, 95),
      engineMedianMs: median(r.engineMs),
    })),
  });
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
}

/** The dataset of `series` × `days`: generated once, then kept (with its description beside it). */
async function generated(series: number, days: number): Promise<Dataset> {
  const dataDir = path.join(os.tmpdir(), `wattline-bench-scale-${series}x${days}d-clustered`);
  const metaFile = `${dataDir}.json`;
  if (fs.existsSync(metaFile) && fs.existsSync(dataDir)) {
    const kept = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Dataset;
    console.log(`reusing ${dataDir} (generated in ${(kept.generationMs / 1000).toFixed(0)} s)`);
    return { ...kept, dataBytes: dirBytes(dataDir), generatedNow: false };
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(metaFile, { force: true });
  const toMs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const fromMs = toMs - days * DAY_MS;
  console.log(
    `generating ${series.toLocaleString('en-US')} series × ${days} days (${(series * days * PER_DAY).toLocaleString('en-US')} readings) into ${dataDir}`,
  );
  // every module's migrations, as a server runs them on a fresh data directory
  await withServerProcess({ dataDir, env: SERVER_ENV }, async () => undefined);
  const started = performance.now();
  const store = await openStore({ dataDir, poolSize: 4 });
  try {
    // the layout the compactor leaves: months that are over in (series, ts) order with their rollups
    // clustered; the current month sorted a day at a time. Compacted rows keep no seq (0).
    const firstDay = fromMs / DAY_MS;
    const endDay = toMs / DAY_MS;
    const currentMonth = monthOf(Math.floor(Date.now() / DAY_MS));
    const rowsOf = (seriesFrom: number, seriesTo: number, lo: number, minutes: number) =>
      `INSERT INTO readings
       SELECT series_id, ts, ${VALUE_SQL} AS value, 0 AS seq FROM (
         SELECT CAST(s.i AS INTEGER) AS series_id, ${lo} + m.i * ${MINUTE_MS} AS ts
         FROM range(${seriesFrom}, ${seriesTo}) s(i), range(0, ${minutes}) m(i)
       ) ORDER BY series_id, ts`;
    for (let day = firstDay; day < endDay; ) {
      const month = monthOf(day);
      const spanEnd = Math.min(monthAfter(month), endDay);
      const spanDays = spanEnd - day;
      if (month !== currentMonth) {
        // a few million rows a transaction: series slices of the whole span
        const perSlice = Math.max(1, Math.floor(5_000_000 / (spanDays * PER_DAY)));
        for (let from = 1; from <= series; from += perSlice) {
          const to = Math.min(series + 1, from + perSlice);
          await store.transaction((tx) => tx.run(rowsOf(from, to, day * DAY_MS, spanDays * PER_DAY)));
        }
      }
      for (let d = day; d < spanEnd; d++) {
        await store.transaction(async (tx) => {
          if (month === currentMonth) await tx.run(rowsOf(1, series + 1, d * DAY_MS, PER_DAY));
          await rollUpDay(tx, d);
          await tx.run(`INSERT INTO reading_partitions (day, state) VALUES ($1, 'sorted')`, [d]);
        });
      }
      if (month !== currentMonth)
        await store.transaction(async (tx) => {
          await clusterMonth(tx, month);
          await tx.run(`INSERT INTO readings_clustered_months (month) VALUES ($1)`, [month]);
        });
      const i = spanEnd - firstDay;
      const s = (performance.now() - started) / 1000;
      console.log(`  day ${i}/${days}: ${s.toFixed(0)} s, ~${((s / i) * days).toFixed(0)} s for all`);
      day = spanEnd;
    }
    const lastDayLo = toMs - DAY_MS;
    await store.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO series (id, key, unit, kind, count, first_ts, last_ts, last_value)
         SELECT series_id, printf('bench/scale/meter-%0${keyWidth(series)}d/power', series_id), 'W', 'gauge',
                ${days * PER_DAY}, ${fromMs}, max(ts), arg_max(value, ts)
         FROM readings WHERE ts >= ${lastDayLo} GROUP BY series_id`,
      );
      await tx.run(`UPDATE readings_meta SET stats_seq = ${days * series * PER_DAY}`);
    });
    const [check] = await store.query<{ key: string }>(`SELECT key FROM series WHERE id = 1`);
    if (check?.key !== keyOf(1, series))
      throw new Error(`series 1 has key ${check?.key}, expected ${keyOf(1, series)}`);
  } finally {
    await store.close();
  }
  const dataset: Dataset = {
    dataDir,
    series,
    days,
    fromMs,
    toMs,
    rows: series * days * PER_DAY,
    generationMs: performance.now() - started,
    dataBytes: dirBytes(dataDir),
    generatedNow: true,
  };
  console.log(`generated in ${(dataset.generationMs / 1000).toFixed(0)} s; data dir ${formatBytes(dataset.dataBytes)}`);
  fs.writeFileSync(metaFile, JSON.stringify(dataset) + '\n');
  return dataset;
}

interface Query {
  name: string;
  seriesIds: number[];
  fromMs: number;
  windowMs: number;
  window: '1h' | '1d';
  targetMs?: number;
}

async function measure(d: Dataset): Promise<QueryResult[]> {
  const all = Array.from({ length: d.series }, (_, i) => i + 1);
  const one = [Math.ceil(d.series / 2)];
  const endMs = d.toMs - 1;
  const queries: Query[] = [
    {
      name: `(a) every series, 1d avg, ${d.days} days`,
      seriesIds: all,
      fromMs: d.fromMs,
      windowMs: DAY_MS,
      window: '1d',
      targetMs: 100,
    },
    {
      name: `(b) one series, 1h avg, ${d.days} days`,
      seriesIds: one,
      fromMs: d.fromMs,
      windowMs: HOUR_MS,
      window: '1h',
      targetMs: 20,
    },
    {
      name: '(c) one series, 1h avg, last 7 days',
      seriesIds: one,
      fromMs: Math.max(d.fromMs, d.toMs - 7 * DAY_MS),
      windowMs: HOUR_MS,
      window: '1h',
    },
  ];
  // the moved start (≥ 1 ms in) drops the range's first minute; every bucket is still there
  const bucketsOf = (q: Query) => q.seriesIds.length * Math.ceil((endMs + 1 - q.fromMs) / q.windowMs);
  const expected = await expectedValues(d, queries);

  const results: QueryResult[] = queries.map((q) => ({
    series: d.series,
    query: q.name,
    buckets: bucketsOf(q),
    requests: Math.ceil(q.seriesIds.length / KEYS_PER_REQUEST),
    answerBytes: 0,
    httpMs: [],
    engineMs: [],
    targetMs: q.targetMs,
  }));

  await withServerProcess({ dataDir: d.dataDir, env: SERVER_ENV }, async (_server, client) => {
    for (const [qi, q] of queries.entries()) {
      const chunks: string[] = [];
      for (let i = 0; i < q.seriesIds.length; i += KEYS_PER_REQUEST)
        chunks.push(
          q.seriesIds
            .slice(i, i + KEYS_PER_REQUEST)
            .map((id) => keyOf(id, d.series))
            .join(','),
        );
      for (let rep = 0; rep < WARMUPS + REPS; rep++) {
        const startMs = q.fromMs + rep + 1;
        const t0 = performance.now();
        const answers = await Promise.all(
          chunks.map((keys) => queryHttp(client, `series=${keys}&start=${startMs}&end=${endMs}&window=${q.window}`)),
        );
        const ms = performance.now() - t0;
        if (rep < WARMUPS) {
          if (rep === 0) {
            results[qi].answerBytes = answers.reduce((n, a) => n + a.bytes, 0);
            checkAnswer(
              q,
              answers.flatMap((a) => a.results()),
              bucketsOf(q) / q.seriesIds.length,
              expected[qi],
              d,
            );
          }
          continue;
        }
        results[qi].httpMs.push(ms);
      }
      console.log(
        `  ${d.series} series, ${q.name}: HTTP median ${formatMs(median(results[qi].httpMs))}, p95 ${formatMs(percentile(results[qi].httpMs, 95))}`,
      );
    }
  });

  // the same plans on the engine itself: DuckDB and reading its columns, no HTTP, JSON or checks
  const store = await openStore({ dataDir: d.dataDir, poolSize: 4 });
  try {
    const readings = await DuckDbReadings.open({ store, catalogSaveMs: 3_600_000 });
    for (const [qi, q] of queries.entries()) {
      for (let rep = 0; rep < WARMUPS + REPS; rep++) {
        const plan: AggregatePlan = {
          seriesIds: q.seriesIds,
          startMs: q.fromMs + rep + 1,
          endMs,
          bucket: { kind: 'fixed', widthMs: q.windowMs },
          agg: 'avg',
        };
        const t0 = performance.now();
        const columns = await readings.aggregate(plan);
        const ms = performance.now() - t0;
        if (columns.length !== bucketsOf(q))
          throw new Error(`${q.name}: the engine gave ${columns.length} buckets, expected ${bucketsOf(q)}`);
        if (rep >= WARMUPS) results[qi].engineMs.push(ms);
      }
      console.log(`  ${d.series} series, ${q.name}: engine median ${formatMs(median(results[qi].engineMs))}`);
    }
  } finally {
    await store.close();
  }
  return results;
}

interface SeriesAnswer {
  series: string;
  points: { time: string; value: number | null }[];
}

async function queryHttp(client: HttpClient, params: string) {
  const res = await client.get(`/api/v1/query?${params}&agg=avg`);
  if (res.status !== 200) throw new Error(`GET /api/v1/query answered ${res.status}: ${res.text.slice(0, 300)}`);
  // parsed only when checked: a 20 MB answer's JSON.parse would be timed as the server's
  return {
    bytes: Buffer.byteLength(res.text),
    results: () => (JSON.parse(res.text) as { results: SeriesAnswer[] }).results,
  };
}

/** The bucket each query's answer is checked at (the middle one of its first series) and its avg over the raw rows. */
async function expectedValues(d: Dataset, queries: Query[]) {
  const store = await openStore({ dataDir: d.dataDir, poolSize: 4 });
  try {
    const out: { seriesId: number; ts: number; value: number }[] = [];
    for (const q of queries) {
      const buckets = Math.ceil((d.toMs - q.fromMs) / q.windowMs);
      const ts = q.fromMs + Math.floor(buckets / 2) * q.windowMs;
      const seriesId = q.seriesIds[Math.floor(q.seriesIds.length / 2)];
      const [row] = await store.query<{ v: number }>(
        `SELECT avg(value) AS v FROM readings WHERE series_id = $1 AND ts >= $2 AND ts < $3`,
        [seriesId, ts, ts + q.windowMs],
      );
      out.push({ seriesId, ts, value: row.v });
    }
    return out;
  } finally {
    await store.close();
  }
}

function checkAnswer(
  q: Query,
  results: SeriesAnswer[],
  bucketsPerSeries: number,
  expected: { seriesId: number; ts: number; value: number },
  d: Dataset,
) {
  if (results.length !== q.seriesIds.length)
    throw new Error(`${q.name}: ${results.length} series answered, expected ${q.seriesIds.length}`);
  const short = results.find((r) => r.points.length !== bucketsPerSeries);
  if (short)
    throw new Error(`${q.name}: ${short.series} has ${short.points.length} buckets, expected ${bucketsPerSeries}`);
  const key = keyOf(expected.seriesId, d.series);
  const point = results.find((r) => r.series === key)?.points.find((p) => Date.parse(p.time) === expected.ts);
  if (!point || point.value === null || Math.abs(point.value - expected.value) > 1e-9 * Math.abs(expected.value))
    throw new Error(
      `${q.name}: ${key} at ${new Date(expected.ts).toISOString()} is ${point?.value}, the raw rows' avg is ${expected.value}`,
    );
}

function dirBytes(dir: string): number {
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  return bytes;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(0)} kB`;
}
