/**
 * Ingest and query benchmark (the workload InfluxDB 1.6 was measured with on the same machine):
 * 2,000,000 readings — 200 series × 10,000 one-minute points from 2024-01-01, so every day is
 * closed — sent as NDJSON in 5,000-line bodies, first by one client into a fresh server, then by two
 * concurrent clients into another. On the second server, after compaction, it times one series'
 * hourly MIN/MAX/AVG/SUM and every series' daily AVG (cache defeated), plus a cached hit.
 * The server runs in a child process so client and server never share an event loop.
 *
 * With a server stack (`--store postgres`, `--bus nats`) the same runs are made on the embedded
 * stack and then on the server stack, and one table shows both. On NATS a 200 means the batch is
 * durable in JetStream, not yet stored, so ingest is reported twice: "acknowledged" (every 200
 * received) and "stored" (the catalog shows every series with all its points); the queries run
 * only once everything is stored. On the in-process bus the two are the same moment. PostgreSQL
 * keeps no query answer cache (no cached-hit row) and compaction is a no-op there (still timed).
 */
import path from 'node:path';
import { pollCatalog, readCatalog, type CatalogEntry } from './lib/catalog.js';
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import {
  buildNdjsonBodies,
  DAY_MS,
  expectedBuckets,
  generatePowerReadings,
  HOUR_MS,
  MINUTE_MS,
  type Bucket,
  type NdjsonBody,
  type PowerReadings,
} from './lib/power-readings.js';
import { cpuSecondsByCommand, cpuSecondsSince } from './lib/process-cpu.js';
import {
  describeMachine,
  formatMs,
  formatRowsPerSecond,
  median,
  percentile,
  printTable,
  writeResults,
} from './lib/report.js';
import type { ServerProcess } from './lib/server-process.js';
import {
  busUrl,
  checkServices,
  databaseUrl,
  describeStack,
  EMBEDDED,
  isEmbedded,
  redactUrl,
  type Stack,
} from './lib/server-stack.js';

const SEED = 20240101;
const SERIES_COUNT = 200;
const POINT_COUNT = 10_000;
const FIRST_TS_MS = Date.UTC(2024, 0, 1);
const LAST_TS_MS = FIRST_TS_MS + (POINT_COUNT - 1) * MINUTE_MS;
const LINES_PER_BODY = 5_000;
const QUERY_SERIES_INDEX = 17;
const QUERY_WARMUP = 3;
const QUERY_ITERATIONS = 30;
/** How long at most after the last 200 the catalog is polled for the stored rows (NATS). */
const STORED_DEADLINE_MS = 180_000;

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
  /** Stable name of the measurement, the same on every stack (rows are matched on it). */
  id: string;
  workload: string;
  /** null: not measured on this stack (`shown` says why). */
  value: number | null;
  unit: 'rows/s' | 'ms' | 's';
  shown: string;
  reference?: { value: number; unit: string; shown: string; source: string };
  details?: Record<string, unknown>;
}

export interface IngestQueryOptions {
  /** Runs the 1-client server(s) under `--cpu-prof` and writes their profiles into this directory. */
  serverCpuProfDir?: string;
  /** Store and bus to compare with the embedded stack; the embedded stack itself (default) runs alone. */
  stack?: Stack;
}

export async function run(options: IngestQueryOptions = {}): Promise<void> {
  const startedAt = new Date();
  const serverStack = options.stack && !isEmbedded(options.stack) ? options.stack : undefined;
  if (serverStack) await checkServices(serverStack); // before minutes of embedded runs, not after
  const readings = generatePowerReadings({
    seed: SEED,
    seriesCount: SERIES_COUNT,
    pointCount: POINT_COUNT,
    firstTsMs: FIRST_TS_MS,
  });

  const compare = serverStack !== undefined;
  const embeddedRows = await runStack(EMBEDDED, readings, { cpuProfDir: options.serverCpuProfDir, compare });
  const serverRows = serverStack
    ? await runStack(serverStack, readings, { cpuProfDir: options.serverCpuProfDir, compare })
    : undefined;

  console.log();
  if (!serverStack || !serverRows) {
    printTable(
      ['workload', 'wattline', 'InfluxDB 1.6 (same machine, reference)'],
      embeddedRows.map((r) => [r.workload, r.shown, r.reference?.shown ?? '—']),
    );
  } else {
    const serverById = new Map(serverRows.map((r) => [r.id, r]));
    printTable(
      [
        'workload',
        `embedded (${describeStack(EMBEDDED)})`,
        `server (${describeStack(serverStack)})`,
        'InfluxDB 1.6 (same machine, reference)',
      ],
      embeddedRows.map((r) => [r.workload, r.shown, serverById.get(r.id)?.shown ?? '—', r.reference?.shown ?? '—']),
    );
  }
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
    // the embedded stack's rows; with a server stack, `server.rows` holds its rows (same ids)
    rows: embeddedRows,
    ...(serverStack && serverRows
      ? {
          embedded: { ...EMBEDDED, label: describeStack(EMBEDDED) },
          server: {
            ...serverStack,
            label: describeStack(serverStack),
            ...(serverStack.store === 'postgres' ? { databaseUrl: redactUrl(databaseUrl()) } : {}),
            ...(serverStack.bus === 'nats' ? { busUrl: redactUrl(busUrl()) } : {}),
            rows: serverRows,
          },
        }
      : {}),
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

/**
 * Both runs on one stack: the 1-client ingest, then the 2-client ingest, compaction and queries.
 * `compare`: a server stack is measured too, so ingest gets an "acknowledged" and a "stored" row
 * and progress is printed as it goes.
 */
async function runStack(
  stack: Stack,
  readings: PowerReadings,
  options: { cpuProfDir?: string; compare: boolean },
): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const label = `${isEmbedded(stack) ? 'embedded' : 'server'} (${describeStack(stack)})`;
  const progress = (text: string) => options.compare && console.log(`${label}: ${text}`);

  // Run 1: one client, fresh server and data directory.
  {
    const bodies = [buildNdjsonBodies(readings, 0, SERIES_COUNT, LINES_PER_BODY)];
    const { result: run1, pid } = await withServer(stack, { cpuProfDir: options.cpuProfDir }, (server, client) =>
      measureIngest(stack, server, client, bodies),
    );
    rows.push(
      ...ingestRows(
        '1-client',
        `${INGEST_WORKLOAD}, 1 client`,
        run1,
        bodies,
        INFLUX_REFERENCE.ingestOneClientRowsPerS,
        options.compare,
      ),
    );
    progress(`1 client: acknowledged in ${run1.ackSeconds.toFixed(1)} s, stored in ${run1.storedSeconds.toFixed(1)} s`);
    if (options.cpuProfDir) {
      console.log(
        `server CPU profile of the ${options.compare ? `${label} ` : ''}1-client run written to ${options.cpuProfDir}${options.compare ? ` (pid ${pid})` : ''}`,
      );
    }
  }

  // Run 2: two concurrent clients, each owning half of the meters (so each series stays in time
  // order, as with two collectors), into another fresh server; the queries run on this one, once
  // everything is stored.
  {
    const half = SERIES_COUNT / 2;
    const bodies = [
      buildNdjsonBodies(readings, 0, half, LINES_PER_BODY),
      buildNdjsonBodies(readings, half, SERIES_COUNT, LINES_PER_BODY),
    ];
    await withServer(stack, {}, async (server, client) => {
      const run2 = await measureIngest(stack, server, client, bodies);
      rows.push(
        ...ingestRows(
          '2-clients',
          `${INGEST_WORKLOAD}, 2 clients`,
          run2,
          bodies,
          INFLUX_REFERENCE.ingestTwoClientsRowsPerS,
          options.compare,
        ),
      );
      progress(
        `2 clients: acknowledged in ${run2.ackSeconds.toFixed(1)} s, stored in ${run2.storedSeconds.toFixed(1)} s`,
      );

      // PostgreSQL has nothing to compact (the upsert keeps one row per key): the call is timed anyway
      const compactStarted = performance.now();
      await server.compact();
      const compactS = (performance.now() - compactStarted) / 1000;
      const noOp = stack.store === 'postgres';
      rows.push({
        id: 'compact',
        workload: `compact 2M readings (7 days) after ingest`,
        value: compactS,
        unit: 's',
        shown: `${compactS.toFixed(2)} s${noOp ? ' (no-op)' : ''}`,
        ...(noOp
          ? { details: { noOp: 'PostgreSQL: nothing to compact, the upsert keeps one row per (series, ts)' } }
          : {}),
      });

      rows.push(...(await measureQueries(client, readings, stack.store !== 'postgres')));
      progress('queries done');
    });
  }
  return rows;
}

/**
 * Runs `fn` against a server on `stack` in a child process on a fresh temp data directory, then
 * removes the directory and, on the server stack, the server's PostgreSQL schema and JetStream
 * streams — whether `fn` succeeded or not.
 */
function withServer<T>(
  stack: Stack,
  options: { cpuProfDir?: string },
  fn: (server: ServerProcess, client: HttpClient) => Promise<T>,
): Promise<{ result: T; pid: number }> {
  return withStackDataDir(stack, (dataDir, env) =>
    withServerProcess({ dataDir, env, cpuProfDir: options.cpuProfDir }, async (server, client) => ({
      result: await fn(server, client),
      pid: server.pid,
    })),
  );
}

interface IngestRun {
  /** From the first request to the last 200. */
  ackSeconds: number;
  /** From the first request until the catalog showed every point stored (= ackSeconds on the in-process bus). */
  storedSeconds: number;
  /** CPU the server process used (all threads, DuckDB's included) and the client used, until stored. */
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  /** CPU of the local PostgreSQL / nats-server processes until stored, when the stack uses them. */
  serviceCpuSeconds?: Record<string, number>;
  /** The persistor's commits until stored: how many, and their summed wall time. */
  commits: number;
  commitSeconds: number;
  compactionsDuringIngest: number;
  /** NATS: rows the catalog showed stored when the last 200 arrived. */
  storedRowsAtAck?: number;
}

/**
 * Sends each client's bodies in order, one request at a time per client; wall time from first
 * request to last answer ("acknowledged"), and on NATS on until the catalog shows every point
 * ("stored"). On the in-process bus a 200 means committed, which the catalog check confirms.
 */
async function measureIngest(
  stack: Stack,
  server: ServerProcess,
  client: HttpClient,
  bodiesPerClient: NdjsonBody[][],
): Promise<IngestRun> {
  const headers = { authorization: `Bearer ${server.key}`, 'content-type': 'application/x-ndjson' };
  const services = [
    ...(stack.store === 'postgres' ? ['postgres'] : []),
    ...(stack.bus === 'nats' ? ['nats-server'] : []),
  ];
  const serverCpuBefore = await readMetric(client, 'process_cpu_seconds_total');
  const commitsBefore = await readMetric(client, 'persist_batch_commit_seconds_count');
  const commitSecondsBefore = await readMetric(client, 'persist_batch_commit_seconds_sum');
  const serviceCpuBefore = cpuSecondsByCommand(services);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    bodiesPerClient.map(async (bodies) => {
      for (const body of bodies) {
        const res = await client.post('/ingest', body.bytes, headers);
        if (res.status !== 200) throw new Error(`POST /ingest answered ${res.status}: ${res.text.slice(0, 500)}`);
        const { accepted } = JSON.parse(res.text) as { accepted?: number };
        if (accepted !== body.lines)
          throw new Error(`POST /ingest accepted ${accepted} of ${body.lines} lines: ${res.text.slice(0, 500)}`);
      }
    }),
  );
  const ackSeconds = (performance.now() - started) / 1000;
  let storedSeconds = ackSeconds;
  let storedRowsAtAck: number | undefined;
  if (stack.bus === 'in-process') {
    await checkCatalog(client);
  } else {
    const waited = await waitUntilStored(client, started);
    storedSeconds = waited.storedSeconds;
    storedRowsAtAck = waited.storedRowsAtFirstPoll;
  }
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serviceCpuSeconds = cpuSecondsSince(serviceCpuBefore, services);
  const serverCpuSeconds = (await readMetric(client, 'process_cpu_seconds_total')) - serverCpuBefore;
  return {
    ackSeconds,
    storedSeconds,
    serverCpuSeconds,
    clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
    ...(serviceCpuSeconds ? { serviceCpuSeconds } : {}),
    commits: (await readMetric(client, 'persist_batch_commit_seconds_count')) - commitsBefore,
    commitSeconds: (await readMetric(client, 'persist_batch_commit_seconds_sum')) - commitSecondsBefore,
    compactionsDuringIngest: await readMetric(client, 'compaction_runs_total'),
    ...(storedRowsAtAck !== undefined ? { storedRowsAtAck } : {}),
  };
}

/**
 * Polls the catalog until every series holds all its points; the stored time is when that answer
 * arrived. Gives up `STORED_DEADLINE_MS` after the last 200, saying how far the store got.
 */
async function waitUntilStored(
  client: HttpClient,
  startedMs: number,
): Promise<{ storedSeconds: number; storedRowsAtFirstPoll: number }> {
  let first: number | undefined;
  const stored = (catalog: CatalogEntry[]) => catalog.reduce((n, s) => n + s.count, 0);
  await pollCatalog(
    client,
    (catalog) => {
      first ??= stored(catalog);
      if (stored(catalog) > TOTAL_ROWS)
        throw new Error(`catalog counts ${stored(catalog)} rows, more than the ${TOTAL_ROWS} sent`);
      return catalogComplete(catalog);
    },
    {
      timeoutMs: STORED_DEADLINE_MS,
      describe: (catalog) => {
        const seconds = (performance.now() - startedMs) / 1000;
        return (
          `only ${stored(catalog)} of ${TOTAL_ROWS} rows stored ${seconds.toFixed(0)} s after the first request ` +
          `(${formatRowsPerSecond(stored(catalog) / seconds)}), ${STORED_DEADLINE_MS / 1000} s after the last 200; giving up`
        );
      },
    },
  );
  return { storedSeconds: (performance.now() - startedMs) / 1000, storedRowsAtFirstPoll: first! };
}

/** Two rows on a compared run ("acknowledged" and "stored"); alone, the embedded stack's one row as always. */
function ingestRows(
  id: string,
  workload: string,
  run: IngestRun,
  bodiesPerClient: NdjsonBody[][],
  referenceRowsPerS: number,
  compare: boolean,
): ResultRow[] {
  const bodies = bodiesPerClient.flat();
  const reference = {
    value: referenceRowsPerS,
    unit: 'rows/s',
    shown: formatRowsPerSecond(referenceRowsPerS),
    source: 'InfluxDB 1.6',
  };
  const details = {
    clients: bodiesPerClient.length,
    requests: bodies.length,
    bodyBytes: bodies.reduce((n, b) => n + b.bytes.length, 0),
    acknowledgedSeconds: run.ackSeconds,
    storedSeconds: run.storedSeconds,
    ...(run.storedRowsAtAck !== undefined ? { storedRowsAtLast200: run.storedRowsAtAck } : {}),
    serverCpuSeconds: run.serverCpuSeconds,
    clientCpuSeconds: run.clientCpuSeconds,
    ...(run.serviceCpuSeconds ? { serviceCpuSeconds: run.serviceCpuSeconds } : {}),
    commits: run.commits,
    commitSeconds: run.commitSeconds,
    compactionsDuringIngest: run.compactionsDuringIngest,
  };
  const row = (rowId: string, text: string, seconds: number): ResultRow => ({
    id: rowId,
    workload: text,
    value: TOTAL_ROWS / seconds,
    unit: 'rows/s',
    shown: formatRowsPerSecond(TOTAL_ROWS / seconds),
    reference,
    details: { seconds, ...details },
  });
  if (!compare) return [row(`ingest-${id}`, workload, run.ackSeconds)];
  return [
    row(`ingest-${id}-acknowledged`, `${workload}, acknowledged (every 200 received)`, run.ackSeconds),
    row(`ingest-${id}-stored`, `${workload}, stored (every point in /api/v1/series)`, run.storedSeconds),
  ];
}

const catalogComplete = (series: CatalogEntry[]) =>
  series.length === SERIES_COUNT && series.every((s) => s.count === POINT_COUNT);

/** Every series is catalogued with all of its points: nothing acknowledged went missing. */
async function checkCatalog(client: HttpClient) {
  const series = await readCatalog(client);
  if (!catalogComplete(series)) {
    const wrong = series.filter((s) => s.count !== POINT_COUNT);
    throw new Error(
      `catalog holds ${series.length} series (expected ${SERIES_COUNT}); wrong counts: ${JSON.stringify(wrong.slice(0, 5))}`,
    );
  }
}

/** `cachable`: the stack keeps a query answer cache (not PostgreSQL), so a cached hit is timed too. */
async function measureQueries(client: HttpClient, readings: PowerReadings, cachable: boolean): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const key = readings.seriesKeys[QUERY_SERIES_INDEX];
  const hourly = expectedBuckets(readings, QUERY_SERIES_INDEX, HOUR_MS);
  const oneSeriesReference = {
    value: INFLUX_REFERENCE.oneSeriesHourlyMs,
    unit: 'ms',
    shown: `~${INFLUX_REFERENCE.oneSeriesHourlyMs} ms`,
    source: 'InfluxDB 1.6',
  };
  // each uncached request gets its own end (+1 ms, still after the last point): the cache key differs, the answer does not
  let endOffsetMs = 1;
  const uncachedEnd = () => LAST_TS_MS + endOffsetMs++;

  for (const agg of ['min', 'max', 'avg', 'sum'] as const) {
    const path = (endMs: number) =>
      `/api/v1/query?series=${key}&start=${FIRST_TS_MS}&end=${endMs}&window=1h&agg=${agg}`;
    const check = (text: string) => checkAnswer(text, [key], [hourly], agg);
    const latencies = await timeQueries(client, 'miss', () => path(uncachedEnd()), check);
    rows.push(
      queryRow(
        `query-1-series-${agg}`,
        `${ONE_SERIES_WORKLOAD}, ${agg.toUpperCase()}, uncached`,
        latencies,
        oneSeriesReference,
      ),
    );
  }

  const cachedWorkload = `${ONE_SERIES_WORKLOAD}, AVG, cached hit`;
  if (cachable) {
    const cachedPath = `/api/v1/query?series=${key}&start=${FIRST_TS_MS}&end=${uncachedEnd()}&window=1h&agg=avg`;
    await client.get(cachedPath); // fills the cache
    const cached = await timeQueries(
      client,
      'hit',
      () => cachedPath,
      (text) => checkAnswer(text, [key], [hourly], 'avg'),
    );
    rows.push(queryRow('query-1-series-cached', cachedWorkload, cached));
  } else {
    rows.push({
      id: 'query-1-series-cached',
      workload: `${cachedWorkload} (median of ${QUERY_ITERATIONS})`,
      value: null,
      unit: 'ms',
      shown: '—',
      details: {
        notMeasured: "no query answer cache on PostgreSQL (another process's commits could not invalidate it)",
      },
    });
  }

  const daily = readings.seriesKeys.map((_, s) => expectedBuckets(readings, s, DAY_MS));
  const allSeries = readings.seriesKeys.join(',');
  const allPath = (endMs: number) =>
    `/api/v1/query?series=${allSeries}&start=${FIRST_TS_MS}&end=${endMs}&window=1d&agg=avg`;
  const all = await timeQueries(
    client,
    'miss',
    () => allPath(uncachedEnd()),
    (text) => checkAnswer(text, readings.seriesKeys, daily, 'avg'),
  );
  rows.push(
    queryRow('query-all-series-daily-avg', `${ALL_SERIES_WORKLOAD}, uncached`, all, {
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
async function timeQueries(
  client: HttpClient,
  expect: 'hit' | 'miss',
  nextPath: () => string,
  check: (text: string) => void,
): Promise<number[]> {
  const counter = expect === 'hit' ? 'query_cache_hits_total' : 'query_cache_misses_total';
  const before = await readMetric(client, counter);
  const latenciesMs: number[] = [];
  for (let i = 0; i < QUERY_WARMUP + QUERY_ITERATIONS; i++) {
    const path = nextPath();
    const started = performance.now();
    const res = await client.get(path);
    const elapsedMs = performance.now() - started;
    if (res.status !== 200)
      throw new Error(`GET ${path.slice(0, 200)} answered ${res.status}: ${res.text.slice(0, 500)}`);
    check(res.text);
    if (i >= QUERY_WARMUP) latenciesMs.push(elapsedMs);
  }
  const counted = (await readMetric(client, counter)) - before;
  if (counted !== QUERY_WARMUP + QUERY_ITERATIONS) {
    throw new Error(`expected ${QUERY_WARMUP + QUERY_ITERATIONS} cache ${expect}es, the server counted ${counted}`);
  }
  return latenciesMs;
}

function queryRow(id: string, workload: string, latenciesMs: number[], reference?: ResultRow['reference']): ResultRow {
  const medianMs = median(latenciesMs);
  return {
    id,
    workload: `${workload} (median of ${latenciesMs.length})`,
    value: medianMs,
    unit: 'ms',
    shown: formatMs(medianMs),
    reference,
    details: {
      minMs: Math.min(...latenciesMs),
      p90Ms: percentile(latenciesMs, 90),
      maxMs: Math.max(...latenciesMs),
      samplesMs: latenciesMs,
    },
  };
}

/** The answer holds exactly the expected buckets per series; sums and averages within float rounding. */
function checkAnswer(text: string, keys: readonly string[], expected: readonly Bucket[][], agg: Aggregation) {
  const { results } = JSON.parse(text) as { results: { series: string; points: { time: string; value: number }[] }[] };
  if (results.length !== keys.length)
    throw new Error(`query answered ${results.length} series, expected ${keys.length}`);
  results.forEach((r, i) => {
    const want = expected[i];
    if (r.series !== keys[i] || r.points.length !== want.length) {
      throw new Error(
        `query answered ${r.points.length} points for ${r.series}, expected ${want.length} for ${keys[i]}`,
      );
    }
    r.points.forEach((p, j) => {
      const b = want[j];
      const value = { min: b.min, max: b.max, sum: b.sum, avg: b.sum / b.count }[agg];
      if (p.time !== new Date(b.startMs).toISOString() || Math.abs(p.value - value) > 1e-9 * Math.abs(value)) {
        throw new Error(
          `${agg} of ${r.series} at ${p.time} is ${p.value}, expected ${value} at ${new Date(b.startMs).toISOString()}`,
        );
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
