/**
 * Dump benchmark: how much a day's dump (`POST /api/v1/dumps`) adds to the server's memory, which
 * the issue wants under a fixed ceiling for a day of 1M readings (GROWTH_CEILING_MB). The day is
 * UTC 2024-03-12: 200 series × 5,000 points, one every 17.28 s, 1,000,000 readings sent as NDJSON
 * in 5,000-line bodies. It is dumped as NDJSON before compaction (as ingested, and with one body
 * sent twice so the export has duplicates to drop), then compacted as NDJSON, CSV and Parquet; days
 * of 250,000 and 2,000,000 readings are dumped as NDJSON too, to show how the growth follows the
 * day's size.
 *
 * Each dump has servers of its own (child processes): one ingests (and compacts) into a fresh temp
 * data directory and stops, then a new server process on that directory dumps the day as its first
 * work. A server that has just ingested and compacted keeps the memory that took (V8's heap,
 * malloc's free lists, DuckDB's buffers), and a dump in it reuses that without growing — as would
 * a second dump after a first — hiding what the dump itself needs. While the request runs, the
 * server's VmRSS (`/proc/<pid>/status`) is read every 10 ms and its kernel high-water mark (VmHWM,
 * reset through `/proc/<pid>/clear_refs` right before) catches a peak between two reads; the
 * growth is the peak less the RSS right before the request. V8's committed heap, read from
 * `/metrics` every 100 ms, tells how much of the growth is JavaScript; the rest is native (DuckDB,
 * zlib, buffers). A dump over the ceiling fails the benchmark (exit code 1). Linux only.
 *
 * With a server stack (`--store postgres`, `--bus nats`) the same runs are made on the embedded
 * stack and then on the server stack, one table each (the server process is what is measured, not
 * PostgreSQL or nats-server). On NATS a day is dumped once the catalog shows it all stored; on
 * PostgreSQL compaction is a no-op and the upsert drops duplicates as they come, so the resent case
 * is left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { pollCatalog, type CatalogEntry } from './lib/catalog.js';
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import { DAY_MS, generatePowerReadings, type NdjsonBody } from './lib/power-readings.js';
import { type MemoryWatch as RssWatch, watchMemory } from './lib/process-memory.js';
import { describeMachine, formatRowsPerSecond, printTable, writeResults } from './lib/report.js';
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

const SEED = 20240312;
const DAY = '2024-03-12';
const DAY_START_MS = Date.UTC(2024, 2, 12);
const SERIES_COUNT = 200;
const LINES_PER_BODY = 5_000;
const MB = 2 ** 20;
/** How often the server's RSS is read while a dump runs. */
const SAMPLE_MS = 10;
/** How often its JS heap is read (from `/metrics`, which costs the server a little work) while a dump runs. */
const HEAP_SAMPLE_MS = 100;
/** How long a restarted server is left alone before its memory is taken as the baseline. */
const SETTLE_MS = 1_000;
/** How long at most after the last 200 the catalog is polled for the stored rows (NATS). */
const STORED_DEADLINE_MS = 180_000;

/**
 * The most a dump may add to the server's resident memory, for every day size run here.
 *
 * Holding the day instead of streaming it takes far more. Measured in Node 20, 1,000,000 readings
 * take ~84 MB of heap as the store's row objects (`{series_id, ts, value}`), ~84 MB more as
 * `Reading` objects, ~250 MB as NDJSON lines and ~73 MB joined into one text: ~490 MB (~580 MB of
 * RSS) for a dump that buffers naively, on top of what streaming costs; twice that for a day of 2M.
 *
 * Streaming is not free either (measured on 2 cores and 24 GB, each dump in a fresh process, the
 * export reading an hour of the day at a time in columnar chunks): as NDJSON or CSV, 1M readings
 * add 55–65 MB on DuckDB, 250k ~33 MB and 2M ~90 MB; as Parquet 1M add 105–125 MB (a 100k-row group
 * in typed arrays, and the writer's garbage). What grows with the day is mostly garbage V8 has
 * not collected yet (with the heap capped at `--max-old-space-size=80` dumps of 2M readings run
 * with the JS heap within ~25 MB of where it started, so nothing is held) and DuckDB's buffer cache
 * of the day's blocks; a day with duplicates adds the GROUP BY that drops them (+~10 MB at 1M).
 *
 * 200 MB clears the worst of those (Parquet at 1M) by nearly half and is still crossed by a dump that
 * keeps the day's rows as objects or its text as lines. It would not catch a dump that keeps only
 * its compressed output (~6 MB a million).
 */
const GROWTH_CEILING_MB = 200;

type Format = 'ndjson' | 'csv' | 'parquet';

/** One day's load: SERIES_COUNT series × `points` evenly spaced over the day. */
interface DayLoad {
  label: string;
  points: number;
  rows: number;
}

const load = (points: number): DayLoad => {
  const rows = SERIES_COUNT * points;
  return { label: rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1000}k`, points, rows };
};
const SMALL = load(1_250);
const MAIN = load(5_000);
const LARGE = load(10_000);

interface DumpCase {
  id: string;
  load: DayLoad;
  format: Format;
  /** Compact the day before the dump (the normal case: a finished day is compacted within minutes). */
  compacted: boolean;
  /**
   * Send the first body again after the rest, as a collector retrying would: the day then holds
   * duplicates until compacted, and the export dedupes it on the fly (GROUP BY series, ts).
   */
  resent?: boolean;
}

const CASES: DumpCase[] = [
  { id: 'ndjson-1m-uncompacted', load: MAIN, format: 'ndjson', compacted: false },
  { id: 'ndjson-1m-uncompacted-resent', load: MAIN, format: 'ndjson', compacted: false, resent: true },
  { id: 'ndjson-1m', load: MAIN, format: 'ndjson', compacted: true },
  { id: 'csv-1m', load: MAIN, format: 'csv', compacted: true },
  { id: 'parquet-1m', load: MAIN, format: 'parquet', compacted: true },
  { id: 'ndjson-250k', load: SMALL, format: 'ndjson', compacted: true },
  { id: 'ndjson-2m', load: LARGE, format: 'ndjson', compacted: true },
];

interface MemoryWatch {
  /** VmRSS right before the request, in bytes. */
  baselineBytes: number;
  /** The highest of the samples and the kernel's high-water mark, in bytes. */
  peakBytes: number;
  peakSampledBytes: number;
  /** VmHWM after the dump, when it could be reset before it; otherwise null. */
  peakHwmBytes: number | null;
  samples: number;
  /** The JS heap right before the request and its highest values during it (sampled less often). */
  heapBefore: HeapSample;
  heapPeak: HeapSample;
}

interface HeapSample {
  totalBytes: number;
  usedBytes: number;
}

interface DumpRun {
  id: string;
  workload: string;
  format: Format;
  dayRows: number;
  compacted: boolean;
  seconds: number;
  rows: number;
  blobBytes: number;
  memory: MemoryWatch;
  growthBytes: number;
  underCeiling: boolean;
  ingestSeconds: number;
  compactSeconds: number | null;
}

export interface DumpBenchOptions {
  /** Store and bus to compare with the embedded stack; the embedded stack itself (default) runs alone. */
  stack?: Stack;
}

export async function run(options: DumpBenchOptions = {}): Promise<void> {
  if (process.platform !== 'linux') {
    console.log("the dump benchmark reads the server's memory from /proc: Linux only, skipped");
    return;
  }
  const startedAt = new Date();
  const serverStack = options.stack && !isEmbedded(options.stack) ? options.stack : undefined;
  if (serverStack) await checkServices(serverStack);
  const bodies = new Map<DayLoad, NdjsonBody[]>([SMALL, MAIN, LARGE].map((l) => [l, buildDayBodies(l)]));

  const stacks = serverStack ? [EMBEDDED, serverStack] : [EMBEDDED];
  const runs = new Map<Stack, DumpRun[]>();
  for (const stack of stacks) {
    const label = `${isEmbedded(stack) ? 'embedded' : 'server'} (${describeStack(stack)})`;
    const stackRuns: DumpRun[] = [];
    // PostgreSQL's upsert drops duplicates on the way in: there is no day with duplicates to dump
    for (const c of CASES.filter((k) => !(k.resent && stack.store === 'postgres'))) {
      const r = await runCase(stack, c, bodies.get(c.load)!);
      stackRuns.push(r);
      console.log(`${label}: ${r.workload}: ${r.seconds.toFixed(2)} s, RSS +${mb(r.growthBytes)}`);
    }
    runs.set(stack, stackRuns);
  }

  for (const stack of stacks) {
    const stackRuns = runs.get(stack)!;
    console.log(
      `\n${isEmbedded(stack) ? 'embedded' : 'server'} stack (${describeStack(stack)}); server RSS growth ceiling ${GROWTH_CEILING_MB} MB`,
    );
    printTable(
      [
        'dump',
        'time',
        'rows/s',
        'blob',
        'RSS before',
        'RSS peak',
        'growth',
        'of it JS heap',
        `≤ ${GROWTH_CEILING_MB} MB`,
      ],
      stackRuns.map((r) => [
        r.workload,
        `${r.seconds.toFixed(2)} s`,
        formatRowsPerSecond(r.rows / r.seconds),
        mb(r.blobBytes, 1),
        mb(r.memory.baselineBytes),
        mb(r.memory.peakBytes),
        mb(r.growthBytes),
        mb(heapGrowth(r)),
        r.underCeiling ? 'yes' : 'NO',
      ]),
    );
    const bySize = stackRuns.filter((r) => r.format === 'ndjson' && r.compacted).sort((a, b) => a.dayRows - b.dayRows);
    if (bySize.length >= 2) {
      const [smallest, largest] = [bySize[0], bySize[bySize.length - 1]];
      const perMillion = ((largest.growthBytes - smallest.growthBytes) / (largest.dayRows - smallest.dayRows)) * 1e6;
      console.log(
        `\nndjson dump, RSS growth by day size: ${bySize.map((r) => `${load(r.dayRows / SERIES_COUNT).label} readings +${mb(r.growthBytes)}`).join(', ')}` +
          ` (${perMillion >= 0 ? '+' : ''}${mb(perMillion)} per million readings more in the day)`,
      );
    }
  }

  const file = writeResults('dump', startedAt, {
    benchmark: 'dump',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    workload: {
      seed: SEED,
      day: DAY,
      timeZone: 'UTC',
      series: SERIES_COUNT,
      days: [SMALL, MAIN, LARGE].map((l) => ({
        rows: l.rows,
        pointsPerSeries: l.points,
        intervalMs: DAY_MS / l.points,
      })),
      linesPerBody: LINES_PER_BODY,
      sampleMs: SAMPLE_MS,
      heapSampleMs: HEAP_SAMPLE_MS,
      settleMs: SETTLE_MS,
      growthCeilingMb: GROWTH_CEILING_MB,
    },
    stacks: stacks.map((stack) => ({
      ...stack,
      label: describeStack(stack),
      ...(stack.store === 'postgres' ? { databaseUrl: redactUrl(databaseUrl()) } : {}),
      ...(stack.bus === 'nats' ? { busUrl: redactUrl(busUrl()) } : {}),
      rows: runs.get(stack)!.map((r) => ({
        ...r,
        value: r.growthBytes / MB,
        unit: 'MB',
        heapGrowthBytes: heapGrowth(r),
        rowsPerSecond: r.rows / r.seconds,
      })),
    })),
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);

  const over = stacks.flatMap((stack) =>
    runs
      .get(stack)!
      .filter((r) => !r.underCeiling)
      .map((r) => `${r.workload} on ${describeStack(stack)} (+${mb(r.growthBytes)})`),
  );
  if (over.length) {
    console.error(
      `\nFAILED: ${over.length} dump(s) grew the server's memory past the ${GROWTH_CEILING_MB} MB ceiling: ${over.join('; ')}`,
    );
    process.exitCode = 1;
  }
}

/**
 * Ingests the case's day into a fresh server and compacts it if asked; then restarts the server on
 * the same data directory and dumps the day once from the new process, watching its memory. The
 * restart makes the dump the first thing the process does: ingest and compaction leave memory in
 * the process (V8's heap, the allocator's free lists, DuckDB's buffers) that a dump would reuse
 * without growing, hiding what the dump itself needs.
 */
async function runCase(stack: Stack, c: DumpCase, bodies: NdjsonBody[]): Promise<DumpRun> {
  return withStackDataDir(stack, async (dataDir, stackEnv) => {
    // no scheduled dumps, and the compactor never runs on its own: only what the benchmark asks for
    const env = { ...stackEnv, WATTLINE_DUMPS_DAILY: 'false', WATTLINE_COMPACTION_INTERVAL_MS: '3600000' };
    const { ingestSeconds, compactSeconds } = await withServerProcess({ dataDir, env }, async (server, client) => {
      const ingestSeconds = await ingest(stack, server, client, bodies, c.load);
      if (c.resent) await resend(stack, server, client, bodies[0], c.load);
      if (!c.compacted) return { ingestSeconds, compactSeconds: null };
      const started = performance.now();
      await server.compact();
      return { ingestSeconds, compactSeconds: (performance.now() - started) / 1000 };
    });

    const result = await withServerProcess({ dataDir, env }, async (server, client) => {
      // let the start's own work (loading the catalog, first timers) finish before the baseline
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      return dumpWatched(server, client, c.format);
    });
    if (result.rows !== c.load.rows)
      throw new Error(`the ${c.format} dump of ${DAY} holds ${result.rows} rows, expected ${c.load.rows}`);
    checkBlob(path.join(dataDir, 'dumps', result.blob), c.format, result.rows, result.bytes);
    const growthBytes = result.memory.peakBytes - result.memory.baselineBytes;
    return {
      id: c.id,
      workload: `${c.load.label} readings, ${c.format}${c.compacted ? '' : ', before compaction'}${c.resent ? `, ${bodies[0].lines / 1000}k resent` : ''}`,
      format: c.format,
      dayRows: c.load.rows,
      compacted: c.compacted,
      seconds: result.seconds,
      rows: result.rows,
      blobBytes: result.bytes,
      memory: result.memory,
      growthBytes,
      underCeiling: growthBytes <= GROWTH_CEILING_MB * MB,
      ingestSeconds,
      compactSeconds,
    };
  });
}

/**
 * SERIES_COUNT meters × `points` readings spread evenly over DAY, time-major (each instant, every
 * meter in turn), in NDJSON bodies of LINES_PER_BODY lines.
 */
function buildDayBodies(day: DayLoad): NdjsonBody[] {
  const intervalMs = DAY_MS / day.points;
  const { seriesKeys, valuesW } = generatePowerReadings({
    seed: SEED,
    seriesCount: SERIES_COUNT,
    pointCount: day.points,
    firstTsMs: DAY_START_MS,
  });
  const bodies: NdjsonBody[] = [];
  let lines: string[] = [];
  for (let m = 0; m < day.points; m++) {
    const tsMs = DAY_START_MS + Math.floor(m * intervalMs);
    for (let s = 0; s < SERIES_COUNT; s++) {
      lines.push(`{"series":"${seriesKeys[s]}","value":${valuesW[s * day.points + m]},"ts":${tsMs}}`);
      if (lines.length === LINES_PER_BODY) {
        bodies.push({ bytes: Buffer.from(lines.join('\n') + '\n'), lines: lines.length });
        lines = [];
      }
    }
  }
  if (lines.length) bodies.push({ bytes: Buffer.from(lines.join('\n') + '\n'), lines: lines.length });
  return bodies;
}

/** Sends the bodies one at a time and waits until the catalog shows every reading stored; the seconds that took. */
async function ingest(
  stack: Stack,
  server: ServerProcess,
  client: HttpClient,
  bodies: NdjsonBody[],
  day: DayLoad,
): Promise<number> {
  const headers = { authorization: `Bearer ${server.key}`, 'content-type': 'application/x-ndjson' };
  const started = performance.now();
  for (const body of bodies) {
    const res = await client.post('/ingest', body.bytes, headers);
    if (res.status !== 200) throw new Error(`POST /ingest answered ${res.status}: ${res.text.slice(0, 500)}`);
    const { accepted } = JSON.parse(res.text) as { accepted?: number };
    if (accepted !== body.lines)
      throw new Error(`POST /ingest accepted ${accepted} of ${body.lines} lines: ${res.text.slice(0, 500)}`);
  }
  // on the in-process bus a 200 means committed: the first look must find everything
  await pollCatalog(client, (series) => series.length === SERIES_COUNT && series.every((s) => s.count === day.points), {
    timeoutMs: stack.bus === 'nats' ? STORED_DEADLINE_MS : 0,
    describe: (series) =>
      `the catalog holds ${series.length} series and ${stored(series)} readings, expected ${SERIES_COUNT} and ${day.rows}`,
  });
  return (performance.now() - started) / 1000;
}

/** Sends `body` again and waits until the catalog counts its duplicates (it counts every row stored until compaction dedupes them). */
async function resend(
  stack: Stack,
  server: ServerProcess,
  client: HttpClient,
  body: NdjsonBody,
  day: DayLoad,
): Promise<void> {
  const res = await client.post('/ingest', body.bytes, {
    authorization: `Bearer ${server.key}`,
    'content-type': 'application/x-ndjson',
  });
  if (res.status !== 200) throw new Error(`POST /ingest answered ${res.status}: ${res.text.slice(0, 500)}`);
  await pollCatalog(client, (series) => stored(series) === day.rows + body.lines, {
    timeoutMs: stack.bus === 'nats' ? STORED_DEADLINE_MS : 0,
    describe: (series) =>
      `the catalog counts ${stored(series)} readings after a resend, expected ${day.rows + body.lines}`,
  });
}

const stored = (series: CatalogEntry[]) => series.reduce((n, s) => n + s.count, 0);

interface DumpAnswer {
  blob: string;
  rows: number;
  bytes: number;
}

/**
 * Dumps DAY in `format` while sampling the server's RSS (every SAMPLE_MS) and its JS heap (from
 * `/metrics`, every HEAP_SAMPLE_MS); the answer, its wall time and the memory seen.
 */
async function dumpWatched(
  server: ServerProcess,
  client: HttpClient,
  format: Format,
): Promise<DumpAnswer & { seconds: number; memory: MemoryWatch }> {
  const body = Buffer.from(JSON.stringify({ date: DAY, tz: 'UTC', format }));
  const headers = { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' };
  const heapBefore = await readHeap(client);
  const rss = watchMemory(server.pid, SAMPLE_MS);
  let dumping = true;
  let heapPeak = heapBefore;
  const heapSampler = (async () => {
    while (dumping) {
      await new Promise((r) => setTimeout(r, HEAP_SAMPLE_MS));
      const heap = await readHeap(client);
      heapPeak = {
        totalBytes: Math.max(heapPeak.totalBytes, heap.totalBytes),
        usedBytes: Math.max(heapPeak.usedBytes, heap.usedBytes),
      };
    }
  })();
  const started = performance.now();
  let res: Awaited<ReturnType<typeof client.post>>;
  let measured: ReturnType<RssWatch['stop']>;
  try {
    res = await client.post('/api/v1/dumps', body, headers);
  } finally {
    measured = rss.stop();
    dumping = false;
    await heapSampler.catch(() => undefined);
  }
  const seconds = (performance.now() - started) / 1000;
  if (res.status !== 200)
    throw new Error(`POST /api/v1/dumps (${format}) answered ${res.status}: ${res.text.slice(0, 500)}`);
  const dumps = (JSON.parse(res.text) as { dumps: DumpAnswer[] }).dumps;
  if (dumps.length !== 1)
    throw new Error(`POST /api/v1/dumps answered ${dumps.length} dumps for one day: ${res.text.slice(0, 500)}`);
  return {
    ...dumps[0],
    seconds,
    memory: {
      ...measured,
      heapBefore,
      heapPeak,
    },
  };
}

/** The server's JS heap (V8's committed heap and the part in use), from prom-client's default metrics. */
async function readHeap(client: HttpClient): Promise<HeapSample> {
  const res = await client.get('/metrics');
  const value = (name: string) => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text);
    if (res.status !== 200 || !match) throw new Error(`/metrics (${res.status}) has no ${name}`);
    return Number(match[1]);
  };
  return { totalBytes: value('nodejs_heap_size_total_bytes'), usedBytes: value('nodejs_heap_size_used_bytes') };
}

/** The blob on disk is the size the server said, and holds the rows: a line each (NDJSON, CSV after its header), or Parquet's magic at both ends. */
function checkBlob(file: string, format: Format, rows: number, bytes: number) {
  const data = fs.readFileSync(file);
  if (data.length !== bytes) throw new Error(`${file} holds ${data.length} bytes, the server said ${bytes}`);
  if (format === 'parquet') {
    if (data.subarray(0, 4).toString('latin1') !== 'PAR1' || data.subarray(-4).toString('latin1') !== 'PAR1')
      throw new Error(`${file} is not a Parquet file`);
    return;
  }
  const text = gunzipSync(data);
  let lines = 0;
  for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) lines++;
  const expected = format === 'csv' ? rows + 1 : rows;
  if (lines !== expected) throw new Error(`${file} holds ${lines} lines, expected ${expected}`);
}

/** How far V8's committed heap grew during the dump (the rest of the growth is native: DuckDB, zlib, buffers). */
const heapGrowth = (r: DumpRun) => Math.max(0, r.memory.heapPeak.totalBytes - r.memory.heapBefore.totalBytes);

function mb(bytes: number, digits = 0): string {
  return `${(bytes / MB).toFixed(digits)} MB`;
}
