/**
 * Ingest and query benchmark (the workload InfluxDB 1.6 was measured with on the same machine):
 * 2,000,000 readings — 200 series × 10,000 one-minute points from 2024-01-01, so every day is
 * closed — sent as NDJSON in 5,000-line bodies, first by one client into a fresh server, then by two
 * concurrent clients into another. On the second server, after compaction, it times one series'
 * hourly MIN/MAX/AVG/SUM and every series' daily AVG (cache defeated), plus a cached hit.
 * The server runs in a child process so client and server never share an event loop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHttpClient, type HttpClient } from './lib/http-client.js';
import { buildNdjsonBodies, DAY_MS, expectedBuckets, generatePowerReadings, HOUR_MS, MINUTE_MS, type Bucket, type NdjsonBody, type PowerReadings } from './lib/power-readings.js';
import { describeMachine, formatMs, formatRowsPerSecond, median, percentile, printTable, writeResults } from './lib/report.js';
import { startServerProcess, type ServerProcess } from './lib/server-process.js';

const SEED = 20240101;
const SERIES_COUNT = 200;
const POINT_COUNT = 10_000;
const FIRST_TS_MS = Date.UTC(2024, 0, 1);
const LAST_TS_MS = FIRST_TS_MS + (POINT_COUNT - 1) * MINUTE_MS;
const LINES_PER_BODY = 5_000;
const QUERY_SERIES_INDEX = 17;
const QUERY_WARMUP = 3;
const QUERY_ITERATIONS = 30;

const TOTAL_ROWS = SERIES_COUNT * POINT_COUNT;
const INGEST_WORKLOAD = `ingest 2M readings, ${SERIES_COUNT} series, 5k-line bodies`;
const ONE_SERIES_WORKLOAD = `query 1 series, 10k points, 1h window`;
const ALL_SERIES_WORKLOAD = `query ${SERIES_COUNT} series, 2M points, 1d window, AVG`;

// Reference figures from the issue: InfluxDB 1.6 measured on the same machine with this workload.
const INFLUX_REFERENCE = {
  ingestOneClientRowsPerS: 690_000,
  ingestTwoClientsRowsPerS: 1_100_000,
  oneSeriesHourlyMs: 7,
  allSeriesDailyAvgMs: 280,
};

type Aggregation = 'min' | 'max' | 'avg' | 'sum';

interface ResultRow {
  workload: string;
  value: number;
  unit: 'rows/s' | 'ms' | 's';
  shown: string;
  reference?: { value: number; unit: string; shown: string; source: string };
  details?: Record<string, unknown>;
}

export interface IngestQueryOptions {
  /** Runs the 1-client server under `--cpu-prof` and writes its profile into this directory. */
  serverCpuProfDir?: string;
}

export async function run(options: IngestQueryOptions = {}): Promise<void> {
  const startedAt = new Date();
  const readings = generatePowerReadings({ seed: SEED, seriesCount: SERIES_COUNT, pointCount: POINT_COUNT, firstTsMs: FIRST_TS_MS });
  const rows: ResultRow[] = [];

  // Run 1: one client, fresh server and data directory.
  {
    const bodies = [buildNdjsonBodies(readings, 0, SERIES_COUNT, LINES_PER_BODY)];
    const run1 = await withServer({ cpuProfDir: options.serverCpuProfDir }, (server, client) => measureIngest(server, client, bodies));
    rows.push(ingestRow(`${INGEST_WORKLOAD}, 1 client`, run1, bodies, INFLUX_REFERENCE.ingestOneClientRowsPerS));
    if (options.serverCpuProfDir) console.log(`server CPU profile of the 1-client run written to ${options.serverCpuProfDir}`);
  }

  // Run 2: two concurrent clients, each owning half of the meters (so each series stays in time
  // order, as with two collectors), into another fresh server; the queries run on this one.
  {
    const half = SERIES_COUNT / 2;
    const bodies = [buildNdjsonBodies(readings, 0, half, LINES_PER_BODY), buildNdjsonBodies(readings, half, SERIES_COUNT, LINES_PER_BODY)];
    await withServer({}, async (server, client) => {
      const run2 = await measureIngest(server, client, bodies);
      rows.push(ingestRow(`${INGEST_WORKLOAD}, 2 clients`, run2, bodies, INFLUX_REFERENCE.ingestTwoClientsRowsPerS));

      const compactStarted = performance.now();
      await server.compact();
      const compactS = (performance.now() - compactStarted) / 1000;
      rows.push({ workload: `compact 2M readings (7 days) after ingest`, value: compactS, unit: 's', shown: `${compactS.toFixed(2)} s` });

      rows.push(...(await measureQueries(client, readings)));
    });
  }

  const header = ['workload', 'wattline', 'InfluxDB 1.6 (same machine, reference)'];
  console.log();
  printTable(
    header,
    rows.map((r) => [r.workload, r.shown, r.reference?.shown ?? '—']),
  );
  const file = writeResults('ingest-query', startedAt, {
    benchmark: 'ingest-query',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    workload: {
      seed: SEED,
      series: SERIES_COUNT,
      pointsPerSeries: POINT_COUNT,
      rows: TOTAL_ROWS,
      intervalMs: MINUTE_MS,
      firstTs: new Date(FIRST_TS_MS).toISOString(),
      lastTs: new Date(LAST_TS_MS).toISOString(),
      linesPerBody: LINES_PER_BODY,
      queryIterations: QUERY_ITERATIONS,
      queryWarmup: QUERY_WARMUP,
    },
    rows,
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

/** Runs `fn` against a server in a child process on a fresh temp data directory, then removes both. */
async function withServer<T>(options: { cpuProfDir?: string }, fn: (server: ServerProcess, client: HttpClient) => Promise<T>): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-bench-'));
  let server: ServerProcess | undefined;
  let client: HttpClient | undefined;
  try {
    server = await startServerProcess({ dataDir, cpuProfDir: options.cpuProfDir });
    client = createHttpClient(server.url);
    const result = await fn(server, client);
    client.close();
    await server.close();
    return result;
  } catch (err) {
    client?.close();
    await server?.close().catch(() => undefined);
    throw err;
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

interface IngestRun {
  seconds: number;
  rowsPerS: number;
  /** CPU the server process used (all threads, DuckDB's included) and the client used, during ingest. */
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  compactionsDuringIngest: number;
}

/** Sends each client's bodies in order, one request at a time per client; wall time from first request to last answer. */
async function measureIngest(server: ServerProcess, client: HttpClient, bodiesPerClient: NdjsonBody[][]): Promise<IngestRun> {
  const headers = { authorization: `Bearer ${server.key}`, 'content-type': 'application/x-ndjson' };
  const serverCpuBefore = await readMetric(client, 'process_cpu_seconds_total');
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    bodiesPerClient.map(async (bodies) => {
      for (const body of bodies) {
        const res = await client.post('/ingest', body.bytes, headers);
        if (res.status !== 200) throw new Error(`POST /ingest answered ${res.status}: ${res.text.slice(0, 500)}`);
        const { accepted } = JSON.parse(res.text) as { accepted?: number };
        if (accepted !== body.lines) throw new Error(`POST /ingest accepted ${accepted} of ${body.lines} lines: ${res.text.slice(0, 500)}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serverCpuSeconds = (await readMetric(client, 'process_cpu_seconds_total')) - serverCpuBefore;
  await checkCatalog(client);
  return {
    seconds,
    rowsPerS: TOTAL_ROWS / seconds,
    serverCpuSeconds,
    clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
    compactionsDuringIngest: await readMetric(client, 'compaction_runs_total'),
  };
}

function ingestRow(workload: string, run: IngestRun, bodiesPerClient: NdjsonBody[][], referenceRowsPerS: number): ResultRow {
  const bodies = bodiesPerClient.flat();
  return {
    workload,
    value: run.rowsPerS,
    unit: 'rows/s',
    shown: formatRowsPerSecond(run.rowsPerS),
    reference: { value: referenceRowsPerS, unit: 'rows/s', shown: formatRowsPerSecond(referenceRowsPerS), source: 'InfluxDB 1.6' },
    details: {
      seconds: run.seconds,
      clients: bodiesPerClient.length,
      requests: bodies.length,
      bodyBytes: bodies.reduce((n, b) => n + b.bytes.length, 0),
      serverCpuSeconds: run.serverCpuSeconds,
      clientCpuSeconds: run.clientCpuSeconds,
      compactionsDuringIngest: run.compactionsDuringIngest,
    },
  };
}

/** Every series is catalogued with all of its points: nothing acknowledged went missing. */
async function checkCatalog(client: HttpClient) {
  const res = await client.get('/api/v1/series');
  if (res.status !== 200) throw new Error(`GET /api/v1/series answered ${res.status}: ${res.text.slice(0, 500)}`);
  const { series } = JSON.parse(res.text) as { series: { key: string; count: number }[] };
  const wrong = series.filter((s) => s.count !== POINT_COUNT);
  if (series.length !== SERIES_COUNT || wrong.length) {
    throw new Error(`catalog holds ${series.length} series (expected ${SERIES_COUNT}); wrong counts: ${JSON.stringify(wrong.slice(0, 5))}`);
  }
}

async function measureQueries(client: HttpClient, readings: PowerReadings): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const key = readings.seriesKeys[QUERY_SERIES_INDEX];
  const hourly = expectedBuckets(readings, QUERY_SERIES_INDEX, HOUR_MS);
  const oneSeriesReference = { value: INFLUX_REFERENCE.oneSeriesHourlyMs, unit: 'ms', shown: `~${INFLUX_REFERENCE.oneSeriesHourlyMs} ms`, source: 'InfluxDB 1.6' };
  // each uncached request gets its own end (+1 ms, still after the last point): the cache key differs, the answer does not
  let endOffsetMs = 1;
  const uncachedEnd = () => LAST_TS_MS + endOffsetMs++;

  for (const agg of ['min', 'max', 'avg', 'sum'] as const) {
    const path = (endMs: number) => `/api/v1/query?series=${key}&start=${FIRST_TS_MS}&end=${endMs}&window=1h&agg=${agg}`;
    const check = (text: string) => checkAnswer(text, [key], [hourly], agg);
    const latencies = await timeQueries(client, 'miss', () => path(uncachedEnd()), check);
    rows.push(queryRow(`${ONE_SERIES_WORKLOAD}, ${agg.toUpperCase()}, uncached`, latencies, oneSeriesReference));
  }

  const cachedPath = `/api/v1/query?series=${key}&start=${FIRST_TS_MS}&end=${uncachedEnd()}&window=1h&agg=avg`;
  await client.get(cachedPath); // fills the cache
  const cached = await timeQueries(client, 'hit', () => cachedPath, (text) => checkAnswer(text, [key], [hourly], 'avg'));
  rows.push(queryRow(`${ONE_SERIES_WORKLOAD}, AVG, cached hit`, cached));

  const daily = readings.seriesKeys.map((_, s) => expectedBuckets(readings, s, DAY_MS));
  const allSeries = readings.seriesKeys.join(',');
  const allPath = (endMs: number) => `/api/v1/query?series=${allSeries}&start=${FIRST_TS_MS}&end=${endMs}&window=1d&agg=avg`;
  const all = await timeQueries(client, 'miss', () => allPath(uncachedEnd()), (text) => checkAnswer(text, readings.seriesKeys, daily, 'avg'));
  rows.push(
    queryRow(`${ALL_SERIES_WORKLOAD}, uncached`, all, {
      value: INFLUX_REFERENCE.allSeriesDailyAvgMs,
      unit: 'ms',
      shown: `~${INFLUX_REFERENCE.allSeriesDailyAvgMs} ms`,
      source: 'InfluxDB 1.6',
    }),
  );
  return rows;
}

/**
 * Full HTTP round trips, measured client-side: `QUERY_WARMUP` untimed, then `QUERY_ITERATIONS`
 * timed. Every answer is checked, and the server's cache counters must agree with `expect`.
 */
async function timeQueries(client: HttpClient, expect: 'hit' | 'miss', nextPath: () => string, check: (text: string) => void): Promise<number[]> {
  const counter = expect === 'hit' ? 'query_cache_hits_total' : 'query_cache_misses_total';
  const before = await readMetric(client, counter);
  const latenciesMs: number[] = [];
  for (let i = 0; i < QUERY_WARMUP + QUERY_ITERATIONS; i++) {
    const path = nextPath();
    const started = performance.now();
    const res = await client.get(path);
    const elapsedMs = performance.now() - started;
    if (res.status !== 200) throw new Error(`GET ${path.slice(0, 200)} answered ${res.status}: ${res.text.slice(0, 500)}`);
    check(res.text);
    if (i >= QUERY_WARMUP) latenciesMs.push(elapsedMs);
  }
  const counted = (await readMetric(client, counter)) - before;
  if (counted !== QUERY_WARMUP + QUERY_ITERATIONS) {
    throw new Error(`expected ${QUERY_WARMUP + QUERY_ITERATIONS} cache ${expect}es, the server counted ${counted}`);
  }
  return latenciesMs;
}

function queryRow(workload: string, latenciesMs: number[], reference?: ResultRow['reference']): ResultRow {
  const medianMs = median(latenciesMs);
  return {
    workload: `${workload} (median of ${latenciesMs.length})`,
    value: medianMs,
    unit: 'ms',
    shown: formatMs(medianMs),
    reference,
    details: { minMs: Math.min(...latenciesMs), p90Ms: percentile(latenciesMs, 90), maxMs: Math.max(...latenciesMs), samplesMs: latenciesMs },
  };
}

/** The answer holds exactly the expected buckets per series; sums and averages within float rounding. */
function checkAnswer(text: string, keys: readonly string[], expected: readonly Bucket[][], agg: Aggregation) {
  const { results } = JSON.parse(text) as { results: { series: string; points: { time: string; value: number }[] }[] };
  if (results.length !== keys.length) throw new Error(`query answered ${results.length} series, expected ${keys.length}`);
  results.forEach((r, i) => {
    const want = expected[i];
    if (r.series !== keys[i] || r.points.length !== want.length) {
      throw new Error(`query answered ${r.points.length} points for ${r.series}, expected ${want.length} for ${keys[i]}`);
    }
    r.points.forEach((p, j) => {
      const b = want[j];
      const value = { min: b.min, max: b.max, sum: b.sum, avg: b.sum / b.count }[agg];
      if (p.time !== new Date(b.startMs).toISOString() || Math.abs(p.value - value) > 1e-9 * Math.abs(value)) {
        throw new Error(`${agg} of ${r.series} at ${p.time} is ${p.value}, expected ${value} at ${new Date(b.startMs).toISOString()}`);
      }
    });
  });
}

/** A counter without labels from `/metrics`. */
async function readMetric(client: HttpClient, name: string): Promise<number> {
  const res = await client.get('/metrics');
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text);
  if (res.status !== 200 || !match) throw new Error(`/metrics (${res.status}) has no ${name}`);
  return Number(match[1]);
}
