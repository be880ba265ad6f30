/**
 * File drops benchmark (issue 18): a watched folder of `BENCH_FILES_COUNT` (default 1,000) `.sgl_v2`
 * files, each one meter-day of 96 quarter-hour records (100 meter points × as many days from
 * 2024-01-01 as it takes), written to a temp folder with `test/files-fixtures.ts`'s `sglFile`. A
 * server process on the embedded stack (DuckDB, in-process bus; another `--store`/`--bus` is only
 * noted) watches it as a `file://` location, never scanned on its own (`skip_initial_scan`, a day
 * between scans) and taking files at once (`files.settleMs` 0).
 *
 * Timed, from the client: (1) the first `POST /api/v1/ingestion/trigger`, end to end (list, read,
 * hash, parse, store, ledger): every file must be ingested with 96 readings, else it throws; files/s
 * and readings/s, and the server process's CPU time during it (`/proc`, Linux). (2) Untimed: one
 * meter-day summed with `GET /api/v1/query` must equal the generated values. (3) A second trigger on
 * the unchanged folder (a listing and one ledger read; must ingest nothing), `RESCANS` times, the
 * median; the target is under 1 s. `--server-cpu-prof <dir>` runs the server under `--cpu-prof`
 * (most of the scan's CPU is DuckDB's own threads, which the profile shows as idle).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lisbonWinter, sglFile } from '../test/files-fixtures.js';
import { withServerProcess } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import { describeMachine, formatMs, median, printTable, writeResults } from './lib/report.js';
import type { ServerProcess } from './lib/server-process.js';
import { describeStack, EMBEDDED, isEmbedded, type Stack, stackServerEnv } from './lib/server-stack.js';

const FILES = Number(process.env.BENCH_FILES_COUNT ?? 1000);
const METERS = Math.min(100, FILES);
const INTERVALS = 96;
const RESCANS = 3;
const RESCAN_TARGET_MS = 1000;
const LOCATION = 'bench';
const FIRST_DAY_MS = Date.UTC(2024, 0, 1);
const DAY_MS = 86_400_000;

interface ScanAnswer {
  scans: {
    location: string;
    listed: number;
    ingested: { path: string; readings: number; replaced: boolean }[];
    rejected: { path: string; line: number | null; reason: string }[];
    skipped: { path: string; reason: string }[];
    pending: { path: string; reason: string }[];
    error: string | null;
  }[];
}

interface Scan {
  ms: number;
  /** The server process's user + system CPU during the request (undefined off Linux). */
  serverCpuMs?: number;
  listed: number;
  ingested: number;
  readings: number;
}

/** `PT0002000000000042BN`: 20 characters, as the fixed-width records want. */
const meterPointOf = (m: number) => `PT000200${String(m).padStart(10, '0')}BN`;
/** `20240101`… the `d`-th day from 2024-01-01. */
const dayOf = (d: number) => new Date(FIRST_DAY_MS + d * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');
/** kWh of interval `i` of meter `m` on day `d`: a daily shape that differs per meter and day, in 0.01 steps. */
const kwhOf = (m: number, d: number) => (i: number) => 0.05 + ((i * 7 + m * 13 + d * 5) % 40) * 0.05;

/** Writes the files; answers the folder. File `f` is meter `f % METERS` on day `floor(f / METERS)`. */
function writeFolder(): { dir: string; bytes: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-bench-files-'));
  let bytes = 0;
  for (let f = 0; f < FILES; f++) {
    const m = f % METERS;
    const d = Math.floor(f / METERS);
    const text = sglFile({ meterPoint: meterPointOf(m), day: dayOf(d), kwh: kwhOf(m, d), intervals: INTERVALS });
    fs.writeFileSync(path.join(dir, `${meterPointOf(m)}-${dayOf(d)}.sgl_v2`), text, 'latin1');
    bytes += text.length;
  }
  return { dir, bytes };
}

/** User + system CPU ms of one process, all its threads, from `/proc/<pid>/stat` (at 100 ticks/s); undefined off Linux. */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

async function trigger(server: ServerProcess, client: HttpClient): Promise<Scan> {
  const cpuBefore = processCpuMs(server.pid);
  const started = performance.now();
  const res = await client.post('/api/v1/ingestion/trigger', Buffer.from('{}'), {
    authorization: `Bearer ${server.key}`,
    'content-type': 'application/json',
  });
  const ms = performance.now() - started;
  const cpuAfter = processCpuMs(server.pid);
  if (res.status !== 200)
    throw new Error(`POST /api/v1/ingestion/trigger answered ${res.status}: ${res.text.slice(0, 300)}`);
  const scan = (JSON.parse(res.text) as ScanAnswer).scans.find((s) => s.location === LOCATION);
  if (!scan) throw new Error(`the trigger's answer has no scan of "${LOCATION}": ${res.text.slice(0, 300)}`);
  if (scan.error) throw new Error(`the scan failed: ${scan.error}`);
  if (scan.rejected.length || scan.pending.length || scan.skipped.length)
    throw new Error(
      `the scan left ${scan.rejected.length} rejected, ${scan.pending.length} pending, ${scan.skipped.length} skipped: ${JSON.stringify([...scan.rejected, ...scan.pending, ...scan.skipped].slice(0, 3))}`,
    );
  return {
    ms,
    serverCpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    listed: scan.listed,
    ingested: scan.ingested.length,
    readings: scan.ingested.reduce((sum, f) => sum + f.readings, 0),
  };
}

/** The first file's meter-day summed by the query API, against the values it was generated with. */
async function checkQueryable(client: HttpClient, server: ServerProcess) {
  const series = `files/${meterPointOf(0)}`;
  const day = dayOf(0);
  const start = lisbonWinter(day, 0);
  const res = await client.get(
    `/api/v1/query?series=${series}&start=${start}&end=${start + DAY_MS - 1}&window=1d&agg=sum`,
    { authorization: `Bearer ${server.key}` },
  );
  if (res.status !== 200) throw new Error(`GET /api/v1/query answered ${res.status}: ${res.text.slice(0, 300)}`);
  const body = JSON.parse(res.text) as { results: { points: { value: number }[] }[] };
  const stored = body.results[0]?.points[0]?.value;
  const kwh = kwhOf(0, 0);
  // the file holds hundredths of a kWh
  const expected = Array.from({ length: INTERVALS }, (_, i) => Math.round(kwh(i) * 100) / 100).reduce(
    (a, b) => a + b,
    0,
  );
  if (stored === undefined || Math.abs(stored - expected) > 1e-6)
    throw new Error(`${series} on ${day}: the query sums ${stored} kWh, the file holds ${expected} kWh`);
  return { series, day, kwh: stored };
}

export async function run(options: { stack?: Stack; serverCpuProfDir?: string } = {}): Promise<void> {
  const startedAt = new Date();
  if (options.stack && !isEmbedded(options.stack))
    console.log(`the files benchmark runs on the embedded stack only (asked: ${describeStack(options.stack)})`);
  const writeStarted = performance.now();
  const folder = writeFolder();
  console.log(
    `wrote ${FILES.toLocaleString('en-US')} .sgl_v2 files (${(folder.bytes / 1e6).toFixed(1)} MB) to ${folder.dir} in ${formatMs(performance.now() - writeStarted)}`,
  );
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-bench-'));
  const env = {
    ...stackServerEnv(EMBEDDED).env,
    WATTLINE_FILES_LOCATIONS: JSON.stringify([
      { url: `file://${folder.dir}`, name: LOCATION, interval_s: 86_400, skip_initial_scan: true },
    ]),
    WATTLINE_FILES_SETTLE_MS: '0',
  };
  let first: Scan;
  let rescans: Scan[];
  let checked: Awaited<ReturnType<typeof checkQueryable>>;
  try {
    ({ first, rescans, checked } = await withServerProcess(
      { dataDir, env, cpuProfDir: options.serverCpuProfDir },
      async (server, client) => {
        const first = await trigger(server, client);
        if (first.listed !== FILES || first.ingested !== FILES || first.readings !== INTERVALS * FILES)
          throw new Error(
            `the first scan listed ${first.listed}, ingested ${first.ingested} files and ${first.readings} readings; expected ${FILES} files and ${INTERVALS * FILES} readings`,
          );
        const checked = await checkQueryable(client, server);
        const rescans: Scan[] = [];
        for (let n = 0; n < RESCANS; n++) {
          const again = await trigger(server, client);
          if (again.ingested !== 0 || again.listed !== FILES)
            throw new Error(
              `a scan of the unchanged folder listed ${again.listed} and ingested ${again.ingested} files`,
            );
          rescans.push(again);
        }
        return { first, rescans, checked };
      },
    ));
  } finally {
    fs.rmSync(folder.dir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const rescanMs = median(rescans.map((s) => s.ms));
  const rescanCpu = rescans.every((s) => s.serverCpuMs !== undefined)
    ? median(rescans.map((s) => s.serverCpuMs!))
    : undefined;
  const cpu = (ms: number | undefined) => (ms === undefined ? '–' : formatMs(ms));
  const perS = (n: number, ms: number) => Math.round((n * 1000) / ms).toLocaleString('en-US');
  console.log();
  printTable(
    ['measurement', 'time', 'server CPU', 'rate', 'target'],
    [
      [
        `first scan: ${FILES.toLocaleString('en-US')} new files ingested end to end`,
        formatMs(first.ms),
        cpu(first.serverCpuMs),
        `${perS(first.ingested, first.ms)} files/s, ${perS(first.readings, first.ms)} readings/s`,
        '–',
      ],
      [
        `second scan, folder unchanged (median of ${RESCANS})`,
        formatMs(rescanMs),
        cpu(rescanCpu),
        `${perS(FILES, rescanMs)} files/s listed`,
        rescanMs < RESCAN_TARGET_MS ? '< 1 s: met' : '< 1 s: MISSED',
      ],
    ],
  );
  console.log(
    `queryable: ${checked.series} on ${checked.day} sums ${checked.kwh} kWh, as generated (GET /api/v1/query, untimed)`,
  );
  const workload = `${FILES.toLocaleString('en-US')} .sgl_v2 files of ${INTERVALS} records (${METERS} meter points × ${Math.ceil(FILES / METERS)} days), one file:// location, embedded store, files.settleMs 0`;
  console.log(`workload: ${workload}`);
  const file = writeResults('files', startedAt, {
    benchmark: 'files',
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    workload,
    files: FILES,
    bytes: folder.bytes,
    readings: first.readings,
    rescanTargetMs: RESCAN_TARGET_MS,
    first: {
      ...first,
      filesPerS: (first.ingested * 1000) / first.ms,
      readingsPerS: (first.readings * 1000) / first.ms,
    },
    rescans,
    rescanMedianMs: rescanMs,
    rescanMet: rescanMs < RESCAN_TARGET_MS,
    queryCheck: checked,
  });
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
}
