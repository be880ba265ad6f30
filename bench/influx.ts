/**
 * Wattline vs InfluxDB 1.6, side by side on this machine (issue 19, point 2): `npm run bench:influx`.
 *
 * Installs InfluxDB from Debian's `influxdb` package when `influxd` is absent (`apt-get install -y
 * influxdb`, as root), and runs the same work on both, one server after the other so each has every
 * core: 2,000,000 points — 200 meters × 10,000 one-minute points from 2024-01-01 — in 5,000-line
 * bodies, time-major, by one client and then by two concurrent clients (each owning half of the
 * meters), each run into a fresh server on a fresh data directory:
 *   - Wattline, NDJSON to `POST /ingest` (series `meter-NNN`);
 *   - Wattline, line protocol to `POST /write?db=bench&precision=ms` with
 *     `WATTLINE_INGEST_LINE_PROTOCOL_SERIES_TAGS=meter` (series `power/meter-NNN/value`);
 *   - InfluxDB, the very same line-protocol bodies to its `POST /write?db=bench&precision=ms`
 *     (one measurement `power`, tag `meter`, field `value`: InfluxDB's natural layout).
 * Every ingest is checked: Wattline's catalog must show 200 series × 10,000 points, InfluxDB must
 * count 2M values.
 *
 * On the 2-client line-protocol servers (Wattline after `compactNow`; InfluxDB once its cache is
 * snapshotted and its TSM files fully compacted, which a cold-write config makes take seconds):
 * one meter's hourly average over the whole week, and every meter's daily average (InfluxQL
 * `GROUP BY time(1d), meter`), `QUERY_WARMUP` untimed then `QUERY_ITERATIONS` timed full HTTP round
 * trips, the range's end moved by 1 ms on every request (still after the last point), so no answer
 * cache can help; Wattline also runs with `WATTLINE_QUERY_CACHE_SIZE=0`. Every answer is checked
 * against the generated values. Then both servers are stopped cleanly (Wattline checkpoints DuckDB
 * on close) and their files are measured: bytes on disk per point, as allocated blocks (what `du`
 * shows; InfluxDB's series file preallocates sparse 4 MiB segments), apparent sizes noted too.
 *
 * Targets (issue 19): ingest ≥ 1.5× InfluxDB's rows/s with one and with two clients, both formats;
 * query latency ≤ 0.5× InfluxDB's for both queries; disk per point ≤ InfluxDB's.
 *
 * `--influxdb-from <results.json>` skips the InfluxDB runs and reports its figures from an earlier
 * run's results file (for iterating on Wattline; say so wherever such figures are quoted).
 *
 * `--server-cpu-prof <dir>` adds one more 1-client line-protocol run (not in the table: the profiler
 * slows it) with the Wattline server under `--cpu-prof`, and leaves its `.cpuprofile`s in `<dir>`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCatalog } from './lib/catalog.js';
import { withServerProcess } from './lib/bench-server.js';
import { createHttpClient, type HttpClient } from './lib/http-client.js';
import {
  buildNdjsonBodies,
  DAY_MS,
  expectedBuckets,
  generatePowerReadings,
  HOUR_MS,
  MINUTE_MS,
  type Bucket,
  type PowerReadings,
} from './lib/power-readings.js';
import {
  describeMachine,
  formatMs,
  formatRowsPerSecond,
  median,
  percentile,
  printTable,
  writeResults,
} from './lib/report.js';
import { EMBEDDED, stackServerEnv } from './lib/server-stack.js';

const SEED = 20240101;
const SERIES_COUNT = 200;
const POINT_COUNT = 10_000;
const FIRST_TS_MS = Date.UTC(2024, 0, 1);
const LAST_TS_MS = FIRST_TS_MS + (POINT_COUNT - 1) * MINUTE_MS;
const LINES_PER_BODY = 5_000;
const TOTAL_ROWS = SERIES_COUNT * POINT_COUNT;
const QUERY_SERIES_INDEX = 17;
const QUERY_WARMUP = 3;
const QUERY_ITERATIONS = 20;
const MEASUREMENT = 'power';
const FIELD = 'value';
const TAG = 'meter';
const DB = 'bench';

const INGEST_TARGET = 1.5; // Wattline rows/s ÷ InfluxDB rows/s, at least
const QUERY_TARGET = 0.5; // Wattline latency ÷ InfluxDB latency, at most
const DISK_TARGET = 1; // Wattline bytes/point ÷ InfluxDB bytes/point, at most

/** How long InfluxDB gets, after the last write, to snapshot its cache and compact its shards fully. */
const INFLUX_COMPACTION_TIMEOUT_MS = 120_000;
/** InfluxDB's files must not change for this long to count as compacted. */
const INFLUX_SETTLED_MS = 8_000;
const INFLUX_START_TIMEOUT_MS = 30_000;

const WATTLINE_ENV = {
  WATTLINE_QUERY_CACHE_SIZE: '0',
  WATTLINE_INGEST_LINE_PROTOCOL_SERIES_TAGS: TAG,
};

type System = 'wattline-ndjson' | 'wattline-lp' | 'influxdb-lp';
const SYSTEM_LABEL: Record<System, string> = {
  'wattline-ndjson': 'Wattline, NDJSON → /ingest',
  'wattline-lp': 'Wattline, line protocol → /write',
  'influxdb-lp': 'InfluxDB 1.6, line protocol → /write',
};

interface IngestResult {
  system: System;
  clients: number;
  seconds: number;
  rowsPerS: number;
  requests: number;
  bodyBytes: number;
  /** User + system CPU of the server process (all threads) from the first request to the last answer. */
  serverCpuSeconds?: number;
  clientCpuSeconds: number;
}

interface QueryResult {
  system: 'wattline' | 'influxdb';
  query: 'one-series-hourly-avg' | 'all-series-daily-avg';
  medianMs: number;
  minMs: number;
  p90Ms: number;
  maxMs: number;
  samplesMs: number[];
}

interface DiskResult {
  system: 'wattline' | 'influxdb';
  /** Apparent size (sum of file sizes) of the files counted, and the blocks they occupy (compared). */
  bytes: number;
  allocatedBytes: number;
  /** Apparent bytes ÷ points; the target compares allocatedBytes ÷ points. */
  bytesPerPoint: number;
  allocatedBytesPerPoint: number;
  files: Record<string, number>;
  note: string;
}

interface Body {
  bytes: Buffer;
  lines: number;
}

export async function run(options: { serverCpuProfDir?: string; influxdbFrom?: string } = {}): Promise<void> {
  const startedAt = new Date();
  const influxd: Influxd = options.influxdbFrom ? { bin: '', version: 'not run' } : ensureInfluxd();
  const readings = generatePowerReadings({
    seed: SEED,
    seriesCount: SERIES_COUNT,
    pointCount: POINT_COUNT,
    firstTsMs: FIRST_TS_MS,
  });
  const half = SERIES_COUNT / 2;
  const ndjson: Body[][][] = [
    [buildNdjsonBodies(readings, 0, SERIES_COUNT, LINES_PER_BODY)],
    [
      buildNdjsonBodies(readings, 0, half, LINES_PER_BODY),
      buildNdjsonBodies(readings, half, SERIES_COUNT, LINES_PER_BODY),
    ],
  ];
  const lineProtocol: Body[][][] = [
    [buildLineProtocolBodies(readings, 0, SERIES_COUNT)],
    [buildLineProtocolBodies(readings, 0, half), buildLineProtocolBodies(readings, half, SERIES_COUNT)],
  ];
  const lpSeriesKeys = readings.seriesKeys.map((m) => `${MEASUREMENT}/${m}/${FIELD}`);

  const ingest: IngestResult[] = [];
  const queries: QueryResult[] = [];
  const disk: DiskResult[] = [];
  const details: Record<string, unknown> = {};

  // Wattline, NDJSON: 1 client, then 2 clients (each on a fresh server); the second's disk use is noted too
  for (const [i, bodies] of ndjson.entries()) {
    const last = i === ndjson.length - 1;
    const r = await withWattline({}, async (server, client) => {
      const result = await ingestWattline(client, server.key, 'ndjson', bodies);
      await checkWattlineCatalog(client, readings.seriesKeys);
      if (last) await timed(() => server.compact());
      return result;
    });
    ingest.push(r.result);
    progress(r.result);
    if (last) details.wattlineNdjsonDisk = r.disk;
  }

  // Wattline, line protocol: 1 client, then 2 clients; queries and disk on the second
  for (const [i, bodies] of lineProtocol.entries()) {
    const last = i === lineProtocol.length - 1;
    const r = await withWattline({}, async (server, client) => {
      const result = await ingestWattline(client, server.key, 'lp', bodies);
      await checkWattlineCatalog(client, lpSeriesKeys);
      if (last) {
        details.wattlineCompactSeconds = await timed(() => server.compact());
        queries.push(...(await wattlineQueries(client, readings, lpSeriesKeys)));
      }
      return result;
    });
    ingest.push(r.result);
    progress(r.result);
    if (last) disk.push(r.disk);
  }

  // Asked for a profile: one more 1-client line-protocol run, under --cpu-prof (slower, so not in the table)
  if (options.serverCpuProfDir) {
    const r = await withWattline({ cpuProfDir: options.serverCpuProfDir }, async (server, client) => {
      const result = await ingestWattline(client, server.key, 'lp', lineProtocol[0]);
      await checkWattlineCatalog(client, lpSeriesKeys);
      return result;
    });
    details.profiledLineProtocolRun = r.result;
    console.log(
      `Wattline server CPU profile of an extra 1-client line-protocol run (${formatRowsPerSecond(r.result.rowsPerS)} under the profiler, not in the table) written to ${options.serverCpuProfDir}`,
    );
  }

  // InfluxDB: the same line-protocol bodies, 1 client then 2 clients; queries and disk on the second
  // (or, while iterating on Wattline, its figures from an earlier run's results file)
  if (options.influxdbFrom) {
    const earlier = JSON.parse(fs.readFileSync(options.influxdbFrom, 'utf8'));
    ingest.push(...earlier.ingest.filter((r: IngestResult) => r.system === 'influxdb-lp'));
    queries.push(...earlier.queries.filter((q: QueryResult) => q.system === 'influxdb'));
    disk.push(...earlier.disk.filter((d: DiskResult) => d.system === 'influxdb'));
    details.influxdbFrom = options.influxdbFrom;
    console.log(`InfluxDB figures taken from ${options.influxdbFrom} (not measured in this run)`);
  }
  for (const [i, bodies] of (options.influxdbFrom ? [] : lineProtocol).entries()) {
    const last = i === lineProtocol.length - 1;
    const r = await withInfluxd(influxd, async (influx) => {
      const result = await ingestInflux(influx, bodies);
      await checkInfluxCount(influx.client);
      if (last) {
        details.influxCompactionSeconds = await timed(() => waitForInfluxCompaction(influx.dir));
        queries.push(...(await influxQueries(influx.client, readings)));
      }
      return result;
    });
    ingest.push(r.result);
    progress(r.result);
    if (last) disk.push(r.disk);
  }

  // ---- report ----
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const influxIngest = (clients: number) => ingest.find((r) => r.system === 'influxdb-lp' && r.clients === clients)!;
  const ingestRows: string[][] = [];
  const targets: { target: string; ratio: number; met: boolean }[] = [];
  for (const clients of [1, 2]) {
    const influx = influxIngest(clients);
    for (const system of ['wattline-ndjson', 'wattline-lp', 'influxdb-lp'] as const) {
      const r = ingest.find((x) => x.system === system && x.clients === clients)!;
      const ratio = r.rowsPerS / influx.rowsPerS;
      const isInflux = system === 'influxdb-lp';
      if (!isInflux)
        targets.push({
          target: `ingest ${system} ${clients} client(s) ≥ ${INGEST_TARGET}×`,
          ratio,
          met: ratio >= INGEST_TARGET,
        });
      ingestRows.push([
        `${clients} client${clients > 1 ? 's' : ''}`,
        SYSTEM_LABEL[system],
        formatRowsPerSecond(r.rowsPerS),
        `${r.seconds.toFixed(2)} s`,
        r.serverCpuSeconds === undefined ? '—' : `${r.serverCpuSeconds.toFixed(1)} s`,
        isInflux ? '1.00×' : `${ratio.toFixed(2)}×`,
        isInflux ? '' : `≥ ${INGEST_TARGET}×: ${verdict(ratio >= INGEST_TARGET)}`,
      ]);
    }
  }
  console.log(
    `\nIngest: ${TOTAL_ROWS.toLocaleString('en-US')} points, ${LINES_PER_BODY}-line bodies (ratio: ÷ InfluxDB's rows/s)`,
  );
  printTable(['clients', 'system', 'rows/s', 'wall', 'server CPU', 'ratio', 'target'], ingestRows);

  const queryRows: string[][] = [];
  for (const query of ['one-series-hourly-avg', 'all-series-daily-avg'] as const) {
    const w = queries.find((q) => q.system === 'wattline' && q.query === query)!;
    const f = queries.find((q) => q.system === 'influxdb' && q.query === query)!;
    const ratio = w.medianMs / f.medianMs;
    targets.push({ target: `query ${query} ≤ ${QUERY_TARGET}×`, ratio, met: ratio <= QUERY_TARGET });
    queryRows.push([
      query === 'one-series-hourly-avg' ? '1 series, 10k points, 1h AVG' : `${SERIES_COUNT} series, 2M points, 1d AVG`,
      `${formatMs(w.medianMs)} (p90 ${formatMs(w.p90Ms)})`,
      `${formatMs(f.medianMs)} (p90 ${formatMs(f.p90Ms)})`,
      `${ratio.toFixed(2)}×`,
      `≤ ${QUERY_TARGET}×: ${verdict(ratio <= QUERY_TARGET)}`,
    ]);
  }
  console.log(
    `\nQueries after compaction: median of ${QUERY_ITERATIONS} round trips, end moved 1 ms each time (ratio: Wattline ÷ InfluxDB)`,
  );
  printTable(['query', 'Wattline', 'InfluxDB 1.6', 'ratio', 'target'], queryRows);

  const wDisk = disk.find((d) => d.system === 'wattline')!;
  const fDisk = disk.find((d) => d.system === 'influxdb')!;
  // on-disk = allocated blocks (what `du` shows): InfluxDB's series file preallocates sparse 4 MiB
  // segments, so its apparent size overstates what it occupies
  const diskRatio = wDisk.allocatedBytes / fDisk.allocatedBytes;
  targets.push({ target: `disk per point ≤ ${DISK_TARGET}×`, ratio: diskRatio, met: diskRatio <= DISK_TARGET });
  console.log('\nDisk after compaction and a clean stop (2-client line-protocol servers; ratio: Wattline ÷ InfluxDB)');
  printTable(
    ['system', 'on disk (allocated)', 'bytes/point', 'apparent size', 'apparent bytes/point', 'what'],
    [wDisk, fDisk].map((d) => [
      d.system === 'wattline' ? 'Wattline' : 'InfluxDB 1.6',
      d.allocatedBytes.toLocaleString('en-US'),
      (d.allocatedBytes / TOTAL_ROWS).toFixed(2),
      d.bytes.toLocaleString('en-US'),
      d.bytesPerPoint.toFixed(2),
      d.note,
    ]),
  );
  console.log(`ratio ${diskRatio.toFixed(2)}× (≤ ${DISK_TARGET}×: ${verdict(diskRatio <= DISK_TARGET)})`);
  const ndjsonDisk = details.wattlineNdjsonDisk as DiskResult;
  console.log(
    `(Wattline's 2-client NDJSON server, for comparison: ${ndjsonDisk.bytesPerPoint.toFixed(2)} bytes/point)`,
  );

  console.log(`\nTargets met: ${targets.filter((t) => t.met).length} of ${targets.length}`);

  const file = writeResults('influx', startedAt, {
    benchmark: 'influx',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    influxdVersion: influxd.version,
    workload: {
      seed: SEED,
      series: SERIES_COUNT,
      pointsPerSeries: POINT_COUNT,
      rows: TOTAL_ROWS,
      intervalMs: MINUTE_MS,
      firstTs: new Date(FIRST_TS_MS).toISOString(),
      lastTs: new Date(LAST_TS_MS).toISOString(),
      linesPerBody: LINES_PER_BODY,
      lineProtocol: `${MEASUREMENT},${TAG}=meter-NNN ${FIELD}=<watts> <epoch ms>`,
      queryIterations: QUERY_ITERATIONS,
      queryWarmup: QUERY_WARMUP,
      wattlineEnv: WATTLINE_ENV,
    },
    ingest,
    queries,
    disk,
    targets,
    details,
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

function progress(r: IngestResult) {
  console.log(
    `${SYSTEM_LABEL[r.system]}, ${r.clients} client(s): ${formatRowsPerSecond(r.rowsPerS)} (${r.seconds.toFixed(2)} s)`,
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/** Line-protocol bodies with the NDJSON bodies' order: time-major, each minute every meter in turn. */
function buildLineProtocolBodies(readings: PowerReadings, seriesFrom: number, seriesTo: number): Body[] {
  const { seriesKeys, pointCount, firstTsMs, valuesW } = readings;
  const bodies: Body[] = [];
  let lines: string[] = [];
  for (let m = 0; m < pointCount; m++) {
    const tsMs = firstTsMs + m * MINUTE_MS;
    for (let s = seriesFrom; s < seriesTo; s++) {
      // a number without `i` is a float field in line protocol, for both servers
      lines.push(`${MEASUREMENT},${TAG}=${seriesKeys[s]} ${FIELD}=${valuesW[s * pointCount + m]} ${tsMs}`);
      if (lines.length === LINES_PER_BODY) {
        bodies.push({ bytes: Buffer.from(lines.join('\n') + '\n'), lines: lines.length });
        lines = [];
      }
    }
  }
  if (lines.length) bodies.push({ bytes: Buffer.from(lines.join('\n') + '\n'), lines: lines.length });
  return bodies;
}

/** Each client sends its bodies in order, one request at a time; all clients at once. */
async function sendAll(
  bodiesPerClient: Body[][],
  send: (body: Body) => Promise<void>,
): Promise<{ seconds: number; clientCpuSeconds: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    bodiesPerClient.map(async (bodies) => {
      for (const body of bodies) await send(body);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function ingestResult(
  system: System,
  bodiesPerClient: Body[][],
  sent: { seconds: number; clientCpuSeconds: number },
  serverCpuSeconds: number | undefined,
): IngestResult {
  const bodies = bodiesPerClient.flat();
  return {
    system,
    clients: bodiesPerClient.length,
    seconds: sent.seconds,
    rowsPerS: TOTAL_ROWS / sent.seconds,
    requests: bodies.length,
    bodyBytes: bodies.reduce((n, b) => n + b.bytes.length, 0),
    ...(serverCpuSeconds !== undefined ? { serverCpuSeconds } : {}),
    clientCpuSeconds: sent.clientCpuSeconds,
  };
}

// ---------------------------------------------------------------- Wattline

/**
 * A Wattline server process (embedded stack) on a fresh data directory; after `fn` the server is
 * closed (DuckDB checkpoints), its files measured, and the directory removed.
 */
async function withWattline<T>(
  options: { cpuProfDir?: string },
  fn: (server: { key: string; pid: number; compact(): Promise<void> }, client: HttpClient) => Promise<T>,
): Promise<{ result: T; disk: DiskResult }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-bench-influx-'));
  const stackEnv = stackServerEnv(EMBEDDED);
  try {
    const result = await withServerProcess(
      { dataDir, env: { ...stackEnv.env, ...WATTLINE_ENV }, cpuProfDir: options.cpuProfDir },
      (server, client) => fn(server, client),
    );
    const files = filesUnder(dataDir);
    const bytes = Object.values(files).reduce((n, f) => n + f.size, 0);
    const allocatedBytes = Object.values(files).reduce((n, f) => n + f.allocated, 0);
    return {
      result,
      disk: {
        system: 'wattline',
        bytes,
        allocatedBytes,
        bytesPerPoint: bytes / TOTAL_ROWS,
        allocatedBytesPerPoint: allocatedBytes / TOTAL_ROWS,
        files: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, f.size])),
        note: 'whole data dir after compactNow + clean stop',
      },
    };
  } finally {
    // BENCH_INFLUX_KEEP=1 keeps Wattline's data directories for a look at what the disk holds
    if (process.env.BENCH_INFLUX_KEEP === '1') console.log(`Wattline data kept in ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
    await stackEnv.cleanup();
  }
}

async function ingestWattline(
  client: HttpClient,
  key: string,
  format: 'ndjson' | 'lp',
  bodiesPerClient: Body[][],
): Promise<IngestResult> {
  const cpuBefore = await readMetric(client, 'process_cpu_seconds_total');
  const sent = await sendAll(
    bodiesPerClient,
    format === 'ndjson'
      ? async (body) => {
          const res = await client.post('/ingest', body.bytes, {
            authorization: `Bearer ${key}`,
            'content-type': 'application/x-ndjson',
          });
          if (res.status !== 200) throw new Error(`POST /ingest answered ${res.status}: ${res.text.slice(0, 500)}`);
          const { accepted } = JSON.parse(res.text) as { accepted?: number };
          if (accepted !== body.lines) throw new Error(`POST /ingest accepted ${accepted} of ${body.lines} lines`);
        }
      : async (body) => {
          const res = await client.post(`/write?db=${DB}&precision=ms`, body.bytes, {
            authorization: `Token ${key}`,
            'content-type': 'text/plain; charset=utf-8',
          });
          if (res.status !== 204) throw new Error(`POST /write answered ${res.status}: ${res.text.slice(0, 500)}`);
        },
  );
  const serverCpuSeconds = (await readMetric(client, 'process_cpu_seconds_total')) - cpuBefore;
  return ingestResult(format === 'ndjson' ? 'wattline-ndjson' : 'wattline-lp', bodiesPerClient, sent, serverCpuSeconds);
}

/** Every series is catalogued with all of its points: nothing acknowledged went missing. */
async function checkWattlineCatalog(client: HttpClient, keys: readonly string[]) {
  const catalog = await readCatalog(client);
  const counts = new Map(catalog.map((e) => [e.key, e.count]));
  const wrong = keys.filter((k) => counts.get(k) !== POINT_COUNT);
  if (catalog.length !== keys.length || wrong.length) {
    throw new Error(
      `catalog holds ${catalog.length} series (expected ${keys.length}); wrong or missing: ${wrong
        .slice(0, 5)
        .map((k) => `${k}=${counts.get(k)}`)
        .join(', ')}`,
    );
  }
}

async function wattlineQueries(client: HttpClient, readings: PowerReadings, keys: string[]): Promise<QueryResult[]> {
  const hourly = [expectedBuckets(readings, QUERY_SERIES_INDEX, HOUR_MS)];
  const daily = keys.map((_, s) => expectedBuckets(readings, s, DAY_MS));
  const one = keys[QUERY_SERIES_INDEX];
  const all = keys.join(',');
  let endOffsetMs = 1;
  const hitsBefore = await readMetric(client, 'query_cache_hits_total');
  const results = [
    await timeQueries(
      'wattline',
      'one-series-hourly-avg',
      client,
      () => `/api/v1/query?series=${one}&start=${FIRST_TS_MS}&end=${LAST_TS_MS + endOffsetMs++}&window=1h&agg=avg`,
      (text) => checkWattlineAnswer(text, [one], hourly),
    ),
    await timeQueries(
      'wattline',
      'all-series-daily-avg',
      client,
      () => `/api/v1/query?series=${all}&start=${FIRST_TS_MS}&end=${LAST_TS_MS + endOffsetMs++}&window=1d&agg=avg`,
      (text) => checkWattlineAnswer(text, keys, daily),
    ),
  ];
  const hits = (await readMetric(client, 'query_cache_hits_total')) - hitsBefore;
  if (hits !== 0) throw new Error(`the query cache answered ${hits} of the timed queries`);
  return results;
}

function checkWattlineAnswer(text: string, keys: readonly string[], expected: readonly Bucket[][]) {
  const { results } = JSON.parse(text) as { results: { series: string; points: { time: string; value: number }[] }[] };
  if (results.length !== keys.length)
    throw new Error(`query answered ${results.length} series, expected ${keys.length}`);
  results.forEach((r, i) => {
    if (r.series !== keys[i]) throw new Error(`query answered ${r.series} in place of ${keys[i]}`);
    checkPoints(
      r.series,
      r.points.map((p) => [Date.parse(p.time), p.value]),
      expected[i],
    );
  });
}

/** A counter without labels from `/metrics`. */
async function readMetric(client: HttpClient, name: string): Promise<number> {
  const res = await client.get('/metrics');
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text);
  if (res.status !== 200 || !match) throw new Error(`/metrics (${res.status}) has no ${name}`);
  return Number(match[1]);
}

// ---------------------------------------------------------------- InfluxDB

interface Influxd {
  bin: string;
  version: string;
}

/** `influxd` from PATH, or installed from Debian's `influxdb` package (needs root and apt). */
function ensureInfluxd(): Influxd {
  const probe = () => spawnSync('influxd', ['version'], { encoding: 'utf8' });
  let version = probe();
  if (version.error) {
    console.log('influxd not found: apt-get install -y influxdb');
    const install = () => spawnSync('apt-get', ['install', '-y', 'influxdb'], { stdio: 'inherit' });
    let installed = install();
    if (installed.status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: 'inherit' });
      installed = install();
    }
    if (installed.status !== 0)
      throw new Error(`apt-get install -y influxdb failed (${installed.status}); run as root`);
    version = probe();
    if (version.error) throw new Error(`influxd still not found after installing: ${version.error.message}`);
  }
  return { bin: 'influxd', version: version.stdout.trim() };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The config of a benchmark `influxd`: loopback ports, everything under `dir`, no reporting (no
 * internet here), no `_internal` monitoring database, no access or query logs (Wattline logs
 * warnings only), and a cold-write snapshot and full compaction after seconds (not 10 min and 4 h)
 * so the files can be measured compacted. Everything else is InfluxDB 1.6's default.
 */
function influxConfig(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${dir}/meta"

[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "1s"
  compact-full-write-cold-duration = "5s"

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false

[retention]
  enabled = false
`;
}

interface InfluxServer {
  client: HttpClient;
  dir: string;
  pid: number;
}

/** A fresh `influxd` on a temp directory with database `bench`; stopped (SIGTERM) and measured after `fn`. */
async function withInfluxd<T>(
  influxd: Influxd,
  fn: (server: InfluxServer) => Promise<T>,
): Promise<{ result: T; disk: DiskResult }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'influxdb-bench-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const configFile = path.join(dir, 'influxdb.conf');
  fs.writeFileSync(configFile, influxConfig(dir, httpPort, rpcPort));
  const log = fs.openSync(path.join(dir, 'influxd.log'), 'w');
  const child = spawn(influxd.bin, ['run', '-config', configFile], { stdio: ['ignore', log, log] });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`)),
  );
  const client = createHttpClient(`http://127.0.0.1:${httpPort}`);
  try {
    await waitForPing(client, child, dir);
    const created = await client.post(`/query?q=${encodeURIComponent(`CREATE DATABASE ${DB}`)}`, Buffer.alloc(0));
    if (created.status !== 200) throw new Error(`CREATE DATABASE answered ${created.status}: ${created.text}`);
    const result = await fn({ client, dir, pid: child.pid! });
    client.close();
    await stopInfluxd(child, exited);
    const files = {
      ...filesUnder(path.join(dir, 'data', DB), 'data/'),
      ...filesUnder(path.join(dir, 'wal', DB), 'wal/'),
    };
    const bytes = Object.values(files).reduce((n, f) => n + f.size, 0);
    const allocatedBytes = Object.values(files).reduce((n, f) => n + f.allocated, 0);
    return {
      result,
      disk: {
        system: 'influxdb',
        bytes,
        allocatedBytes,
        bytesPerPoint: bytes / TOTAL_ROWS,
        allocatedBytesPerPoint: allocatedBytes / TOTAL_ROWS,
        files: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, f.size])),
        note: `data/${DB} + wal/${DB} after full compaction + clean stop`,
      },
    };
  } catch (err) {
    client.close();
    child.kill('SIGKILL');
    await exited;
    const logText = fs.readFileSync(path.join(dir, 'influxd.log'), 'utf8');
    if (logText.trim()) console.error(`influxd log (last lines):\n${logText.split('\n').slice(-20).join('\n')}`);
    throw err;
  } finally {
    fs.closeSync(log);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForPing(client: HttpClient, child: ChildProcess, dir: string) {
  const deadline = performance.now() + INFLUX_START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`influxd exited (${child.exitCode ?? child.signalCode}); see ${dir}/influxd.log`);
    const res = await client.get('/ping').catch(() => undefined);
    if (res?.status === 204) return;
    if (performance.now() > deadline)
      throw new Error(`influxd did not answer /ping within ${INFLUX_START_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopInfluxd(child: ChildProcess, exited: Promise<string>) {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const how = await exited;
  clearTimeout(timer);
  // influxd exits 1 on SIGTERM after a clean shutdown in some versions; SIGKILL is the failure
  if (how === 'signal SIGKILL') throw new Error('influxd did not stop within 60 s of SIGTERM');
}

async function ingestInflux(server: InfluxServer, bodiesPerClient: Body[][]): Promise<IngestResult> {
  const cpuBefore = processCpuSeconds(server.pid);
  const sent = await sendAll(bodiesPerClient, async (body) => {
    const res = await server.client.post(`/write?db=${DB}&precision=ms`, body.bytes, {
      'content-type': 'text/plain; charset=utf-8',
    });
    if (res.status !== 204) throw new Error(`InfluxDB POST /write answered ${res.status}: ${res.text.slice(0, 500)}`);
  });
  const cpuAfter = processCpuSeconds(server.pid);
  const serverCpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return ingestResult('influxdb-lp', bodiesPerClient, sent, serverCpu);
}

async function influxQuery(client: HttpClient, q: string) {
  return client.get(`/query?db=${DB}&epoch=ms&q=${encodeURIComponent(q)}`);
}

interface InfluxAnswer {
  results: {
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: [number, number | null][] }[];
  }[];
}

async function checkInfluxCount(client: HttpClient) {
  const res = await influxQuery(client, `SELECT count(${FIELD}) FROM ${MEASUREMENT}`);
  const answer = JSON.parse(res.text) as InfluxAnswer;
  const count = answer.results[0]?.series?.[0]?.values[0]?.[1];
  if (res.status !== 200 || count !== TOTAL_ROWS)
    throw new Error(`InfluxDB counts ${count} points, expected ${TOTAL_ROWS}: ${res.text.slice(0, 500)}`);
}

/**
 * Waits until InfluxDB's WAL for the database is empty (the cache snapshotted into TSM files) and
 * its TSM files have not changed for `INFLUX_SETTLED_MS` (full compaction done).
 */
async function waitForInfluxCompaction(dir: string) {
  const deadline = performance.now() + INFLUX_COMPACTION_TIMEOUT_MS;
  let last = '';
  let since = performance.now();
  for (;;) {
    const wal = Object.values(filesUnder(path.join(dir, 'wal', DB))).reduce((n, f) => n + f.size, 0);
    const data = filesUnder(path.join(dir, 'data', DB));
    const tsm = Object.entries(data)
      .filter(([name]) => name.endsWith('.tsm'))
      .map(([name, f]) => `${name}:${f.size}`)
      .sort()
      .join(',');
    const state = `${wal}|${tsm}`;
    if (state !== last) {
      last = state;
      since = performance.now();
    } else if (
      wal === 0 &&
      !Object.keys(data).some((n) => n.endsWith('.tmp')) &&
      performance.now() - since >= INFLUX_SETTLED_MS
    ) {
      return;
    }
    if (performance.now() > deadline)
      throw new Error(
        `InfluxDB still compacting ${INFLUX_COMPACTION_TIMEOUT_MS / 1000} s after the last write: ${state}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function influxQueries(client: HttpClient, readings: PowerReadings): Promise<QueryResult[]> {
  const hourly = expectedBuckets(readings, QUERY_SERIES_INDEX, HOUR_MS);
  const daily = readings.seriesKeys.map((_, s) => expectedBuckets(readings, s, DAY_MS));
  const one = readings.seriesKeys[QUERY_SERIES_INDEX];
  let endOffsetMs = 1;
  const range = () => `time >= ${FIRST_TS_MS}ms AND time <= ${LAST_TS_MS + endOffsetMs++}ms`;
  const path = (q: string) => `/query?db=${DB}&epoch=ms&q=${encodeURIComponent(q)}`;
  return [
    await timeQueries(
      'influxdb',
      'one-series-hourly-avg',
      client,
      () => path(`SELECT mean(${FIELD}) FROM ${MEASUREMENT} WHERE ${TAG} = '${one}' AND ${range()} GROUP BY time(1h)`),
      (text) => checkInfluxAnswer(text, [one], [hourly]),
    ),
    await timeQueries(
      'influxdb',
      'all-series-daily-avg',
      client,
      () => path(`SELECT mean(${FIELD}) FROM ${MEASUREMENT} WHERE ${range()} GROUP BY time(1d), ${TAG}`),
      (text) => checkInfluxAnswer(text, readings.seriesKeys, daily),
    ),
  ];
}

/** One series per meter (tagged, or the only one), in meter order, with exactly the expected buckets. */
function checkInfluxAnswer(text: string, meters: readonly string[], expected: readonly Bucket[][]) {
  const answer = JSON.parse(text) as InfluxAnswer;
  const result = answer.results[0];
  if (result?.error) throw new Error(`InfluxDB query failed: ${result.error}`);
  const series = result?.series ?? [];
  if (series.length !== meters.length)
    throw new Error(`InfluxDB answered ${series.length} series, expected ${meters.length}`);
  series.forEach((s, i) => {
    const meter = s.tags?.[TAG] ?? meters[i];
    if (meter !== meters[i]) throw new Error(`InfluxDB answered ${meter} in place of ${meters[i]}`);
    checkPoints(
      meter,
      s.values.map(([t, v]) => [t, v]),
      expected[i],
    );
  });
}

// ---------------------------------------------------------------- shared

/** Averages at the expected bucket starts, within float rounding. */
function checkPoints(name: string, points: [number, number | null][], want: readonly Bucket[]) {
  if (points.length !== want.length) throw new Error(`${name}: ${points.length} buckets, expected ${want.length}`);
  points.forEach(([t, v], j) => {
    const b = want[j];
    const avg = b.sum / b.count;
    if (t !== b.startMs || v === null || Math.abs(v - avg) > 1e-9 * Math.abs(avg)) {
      throw new Error(
        `${name}: average at ${new Date(t).toISOString()} is ${v}, expected ${avg} at ${new Date(b.startMs).toISOString()}`,
      );
    }
  });
}

/** `QUERY_WARMUP` untimed then `QUERY_ITERATIONS` timed full round trips, each answer checked. */
async function timeQueries(
  system: QueryResult['system'],
  query: QueryResult['query'],
  client: HttpClient,
  nextPath: () => string,
  check: (text: string) => void,
): Promise<QueryResult> {
  const samplesMs: number[] = [];
  for (let i = 0; i < QUERY_WARMUP + QUERY_ITERATIONS; i++) {
    const p = nextPath();
    const started = performance.now();
    const res = await client.get(p);
    const elapsedMs = performance.now() - started;
    if (res.status !== 200) throw new Error(`GET ${p.slice(0, 200)} answered ${res.status}: ${res.text.slice(0, 500)}`);
    check(res.text);
    if (i >= QUERY_WARMUP) samplesMs.push(elapsedMs);
  }
  return {
    system,
    query,
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    p90Ms: percentile(samplesMs, 90),
    maxMs: Math.max(...samplesMs),
    samplesMs,
  };
}

/** Regular files under `dir` by relative path (prefixed), with apparent and allocated size. */
function filesUnder(dir: string, prefix = ''): Record<string, { size: number; allocated: number }> {
  const out: Record<string, { size: number; allocated: number }> = {};
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      continue; // removed meanwhile (a compaction's temp file)
    }
    out[prefix + path.relative(dir, full)] = { size: stat.size, allocated: stat.blocks * 512 };
  }
  return out;
}

/** User + system CPU seconds of one process, from `/proc` (Linux); undefined elsewhere. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return undefined;
  }
}

// run directly (`npm run bench:influx`), not imported by bench/index.ts
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { 'server-cpu-prof': { type: 'string' }, 'influxdb-from': { type: 'string' } },
  });
  await run({
    serverCpuProfDir: values['server-cpu-prof'] ? path.resolve(values['server-cpu-prof']) : undefined,
    influxdbFrom: values['influxdb-from'],
  });
}
