/**
 * Persistor benchmark (server mode: PostgreSQL + NATS JetStream): how many rows/s one `persist`
 * process commits to PostgreSQL, and how many two commit together.
 *
 * Each run gets a fresh PostgreSQL schema and JetStream stream prefix. An `ingest`-only process
 * (no persistor anywhere) takes 1,000,000 readings (`BENCH_PERSISTORS_ROWS`; 200 series × 5,000
 * one-minute points) as 5,000-line NDJSON bodies: each 200 means the body is one message in the
 * readings stream, where it waits. The ingest process is closed, the stream is checked to hold
 * every body, then 1 (then, in the next run, 2) `persist` processes start at once and drain it.
 * While they start, the benchmark holds an EXCLUSIVE lock on the series table (reads go on, a
 * commit waits for it), released once every persistor is ready (its HTTP port open): from then on
 * they all commit, and the clock runs until every reading is stored, polling the store every
 * POLL_MS (`sum(count)` of the series table, which each commit updates in its own transaction).
 * So the figure is the persistors' commit rate, not HTTP ingest or process start-up. Each process's
 * CPU, PostgreSQL's and nats-server's over that window are reported, and in how many polls a
 * persistor's backend was waiting for a lock on series rows (each commit locks the rows of the
 * series it touches, in id order: two commits on the same series take turns).
 * At the end, every series' count and sum of values in the readings table must equal what was sent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { connect } from 'nats';
import pg from 'pg';
import { withStackDataDir } from './lib/bench-server.js';
import { createHttpClient } from './lib/http-client.js';
import { buildNdjsonBodies, generatePowerReadings, MINUTE_MS, type PowerReadings } from './lib/power-readings.js';
import { cpuSecondsByCommand, cpuSecondsOfProcess, cpuSecondsSince } from './lib/process-cpu.js';
import { describeMachine, formatRowsPerSecond, printTable, writeResults } from './lib/report.js';
import { startServerProcess, type ServerProcess } from './lib/server-process.js';
import { busUrl, checkServices, databaseUrl, describeStack, redactUrl, type Stack } from './lib/server-stack.js';

const STACK: Stack = { store: 'postgres', bus: 'nats' };
const SEED = 20240101;
const SERIES_COUNT = 200;
const ROWS_WANTED = Number(process.env.BENCH_PERSISTORS_ROWS ?? 1_000_000);
const POINT_COUNT = Math.max(1, Math.round(ROWS_WANTED / SERIES_COUNT));
const TOTAL_ROWS = SERIES_COUNT * POINT_COUNT;
const FIRST_TS_MS = Date.UTC(2024, 0, 1);
const LINES_PER_BODY = 5_000;
const PERSISTOR_COUNTS = [1, 2] as const;
const POLL_MS = 50;
/** Longest the persistors may take to store everything once started. */
const STORED_DEADLINE_MS = 600_000;
/** Every process of a run shares this key (as `wattline serve` processes share `WATTLINE_API_KEYS`). */
const API_KEY = 'bench-persistors-key-0001';
/** The persistor's series lock (PostgresReadings.upsert): a backend waiting on it waits for another commit. */
const SERIES_LOCK_SQL = 'SELECT id FROM series WHERE id = ANY($1) ORDER BY id FOR UPDATE';

interface PersistorProcess {
  pid: number;
  readyAfterSeconds: number;
  /** CPU from the moment the gate opened until all was stored. */
  cpuSeconds: number | null;
  rowsCommitted: number;
  commits: number;
  commitSeconds: number;
}

interface RunResult {
  persistors: number;
  rows: number;
  /** From the moment every persistor was ready (the gate opened) until every row was stored. */
  seconds: number;
  rowsPerS: number;
  /** Rows committed before the gate opened (0 unless a commit got past it; left out of rowsPerS). */
  storedBeforeReady: number;
  /** From the first persistor's spawn until every row was stored (start-up included). */
  secondsFromSpawn: number;
  processes: PersistorProcess[];
  serviceCpuSeconds?: Record<string, number>;
  polls: number;
  /** Polls that saw a persistor's backend waiting for a lock on series rows. */
  pollsWithSeriesLockWait: number;
  streamMessages: number;
  streamBytes: number;
  resources: { schema?: string; busStreamPrefix?: string };
}

export async function run(): Promise<void> {
  const startedAt = new Date();
  if (!Number.isFinite(ROWS_WANTED) || ROWS_WANTED < SERIES_COUNT)
    throw new Error(`BENCH_PERSISTORS_ROWS must be a number of at least ${SERIES_COUNT}`);
  await checkServices(STACK);
  const readings = generatePowerReadings({
    seed: SEED,
    seriesCount: SERIES_COUNT,
    pointCount: POINT_COUNT,
    firstTsMs: FIRST_TS_MS,
  });
  const bodies = buildNdjsonBodies(readings, 0, SERIES_COUNT, LINES_PER_BODY);
  const workload = `${TOTAL_ROWS.toLocaleString('en-US')} readings (${SERIES_COUNT} series × ${POINT_COUNT.toLocaleString('en-US')} one-minute points) waiting in JetStream as ${bodies.length} messages of ${LINES_PER_BODY.toLocaleString('en-US')}, drained into PostgreSQL`;
  console.log(workload);

  const results: RunResult[] = [];
  for (const persistors of PERSISTOR_COUNTS) {
    const result = await runOnce(persistors, readings, bodies);
    console.log(
      `${persistors} persistor${persistors > 1 ? 's' : ''}: ${formatRowsPerSecond(result.rowsPerS)} ` +
        `(${result.seconds.toFixed(2)} s; ${result.storedBeforeReady.toLocaleString('en-US')} rows stored before the gate opened)`,
    );
    const idle = result.processes.filter((p) => p.rowsCommitted === 0).length;
    if (idle)
      console.log(
        `  ${idle} of ${persistors} persistors committed nothing: the others had pulled every message ahead ` +
          `(each pulls batches of messages before it commits them); more rows (BENCH_PERSISTORS_ROWS) spread the work`,
      );
    results.push(result);
  }

  const one = results[0].rowsPerS;
  console.log(`\n${workload}, ${describeStack(STACK)}`);
  printTable(
    [
      'persistors',
      'rows/s',
      'seconds',
      'ratio vs one persistor',
      'persistor CPU s',
      'postgres CPU s',
      'rows per persistor',
      'polls waiting on series lock',
    ],
    results.map((r) => [
      String(r.persistors),
      formatRowsPerSecond(r.rowsPerS),
      r.seconds.toFixed(2),
      `${(r.rowsPerS / one).toFixed(2)}×`,
      r.processes.map((p) => (p.cpuSeconds === null ? '?' : p.cpuSeconds.toFixed(1))).join(' + '),
      r.serviceCpuSeconds ? r.serviceCpuSeconds.postgres.toFixed(1) : '?',
      r.processes.map((p) => p.rowsCommitted.toLocaleString('en-US')).join(' / '),
      `${r.pollsWithSeriesLockWait} of ${r.polls}`,
    ]),
  );
  const file = writeResults('persistors', startedAt, {
    benchmark: 'persistors',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    stack: {
      ...STACK,
      label: describeStack(STACK),
      databaseUrl: redactUrl(databaseUrl()),
      busUrl: redactUrl(busUrl()),
    },
    workload: {
      description: workload,
      seed: SEED,
      series: SERIES_COUNT,
      pointsPerSeries: POINT_COUNT,
      rows: TOTAL_ROWS,
      intervalMs: MINUTE_MS,
      firstTs: new Date(FIRST_TS_MS).toISOString(),
      linesPerBody: LINES_PER_BODY,
      messages: bodies.length,
      pollMs: POLL_MS,
    },
    rows: results.map((r) => ({
      id: `persistors-${r.persistors}`,
      workload: `${r.persistors} persistor${r.persistors > 1 ? 's' : ''}: ${workload}`,
      value: r.rowsPerS,
      unit: 'rows/s',
      shown: formatRowsPerSecond(r.rowsPerS),
      details: { ratioVsOne: r.rowsPerS / one, ...r },
    })),
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

/** One run on a fresh schema and stream prefix: fill the stream with no persistor, then drain it with `count`. */
async function runOnce(
  count: number,
  readings: PowerReadings,
  bodies: { bytes: Buffer; lines: number }[],
): Promise<RunResult> {
  return withStackDataDir(STACK, async (dataDir, stackEnv) => {
    const env: NodeJS.ProcessEnv = {
      ...stackEnv,
      WATTLINE_API_KEYS: API_KEY,
      // the whole workload waits in the stream at once: room for all of it, whatever its size
      WATTLINE_BUS_MAX_MESSAGES: String(Math.max(1_000_000, 2 * bodies.length)),
      WATTLINE_BUS_MAX_BYTES: String(Math.max(1024 ** 3, 64 * TOTAL_ROWS)),
      WATTLINE_DUMPS_DAILY: 'false',
    };
    const schema = env.WATTLINE_STORE_SCHEMA!;
    const streamPrefix = env.WATTLINE_BUS_STREAM!;
    // each process has a data directory of its own, as separate `wattline serve` processes would
    const processDir = (name: string) => {
      const dir = path.join(dataDir, name);
      fs.mkdirSync(dir);
      return dir;
    };

    // 1. ingest only: every 200 leaves its body as a message in the stream, which nobody consumes
    const ingest = await startServerProcess({ dataDir: processDir('ingest'), env, roles: ['ingest'] });
    try {
      const client = createHttpClient(ingest.url);
      const headers = { authorization: `Bearer ${ingest.key}`, 'content-type': 'application/x-ndjson' };
      try {
        for (const body of bodies) {
          const res = await client.post('/ingest', body.bytes, headers);
          if (res.status !== 200) throw new Error(`POST /ingest answered ${res.status}: ${res.text.slice(0, 500)}`);
          const { accepted } = JSON.parse(res.text) as { accepted?: number };
          if (accepted !== body.lines)
            throw new Error(`POST /ingest accepted ${accepted} of ${body.lines} lines: ${res.text.slice(0, 500)}`);
        }
      } finally {
        client.close();
      }
    } finally {
      await ingest.close();
    }
    const stream = await readingsStream(streamPrefix);
    if (stream.messages !== bodies.length)
      throw new Error(`the readings stream holds ${stream.messages} messages, expected ${bodies.length}`);

    const db = new pg.Client({ connectionString: databaseUrl() });
    await db.connect();
    // the gate: while it holds the series table, a persistor's first commit waits (reads go on), so
    // processes that became ready at different moments all start committing when it opens
    const gate = new pg.Client({ connectionString: databaseUrl() });
    await gate.connect();
    let gateOpen = false;
    const persistors: ServerProcess[] = [];
    try {
      const stored = async () => {
        const [row] = (
          await db.query<{ stored: string; waiting: string }>(
            `SELECT (SELECT coalesce(sum(count), 0) FROM ${schema}.series) AS stored,
                    (SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock' AND query = $1) AS waiting`,
            [SERIES_LOCK_SQL],
          )
        ).rows;
        return { stored: Number(row.stored), waiting: Number(row.waiting) };
      };
      if ((await stored()).stored !== 0) throw new Error('rows were stored before any persistor started');
      await gate.query('BEGIN');
      await gate.query(`LOCK TABLE ${schema}.series IN EXCLUSIVE MODE`);

      // 2. the persistors start at once; the clock starts when the last is ready and the gate opens
      const services = ['postgres', 'nats-server'];
      const spawnedAt = performance.now();
      const readyAfter: number[] = [];
      const started = await Promise.allSettled(
        Array.from({ length: count }, async (_, i) => {
          const p = await startServerProcess({ dataDir: processDir(`persist-${i + 1}`), env, roles: ['persist'] });
          persistors.push(p);
          readyAfter[i] = (performance.now() - spawnedAt) / 1000;
          return p;
        }),
      );
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const ordered = started.map((s) => (s as PromiseFulfilledResult<ServerProcess>).value);
      const storedBeforeReady = (await stored()).stored;
      const serviceCpuBefore = cpuSecondsByCommand(services);
      const cpuBefore = ordered.map((p) => cpuSecondsOfProcess(p.pid));
      await gate.query('COMMIT');
      gateOpen = true;
      const readyAt = performance.now();

      // 3. poll until every row is stored
      let polls = 0;
      let pollsWithSeriesLockWait = 0;
      let doneAt = readyAt;
      for (let last = storedBeforeReady; last < TOTAL_ROWS; ) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const now = await stored();
        polls++;
        if (now.waiting > 0) pollsWithSeriesLockWait++;
        doneAt = performance.now();
        last = now.stored;
        if (last > TOTAL_ROWS) throw new Error(`${last} rows stored, more than the ${TOTAL_ROWS} sent`);
        if (doneAt - readyAt > STORED_DEADLINE_MS)
          throw new Error(
            `only ${last} of ${TOTAL_ROWS} rows stored ${STORED_DEADLINE_MS / 1000} s after the persistors were ready`,
          );
      }
      const cpuAfter = ordered.map((p) => cpuSecondsOfProcess(p.pid));
      const serviceCpuSeconds = cpuSecondsSince(serviceCpuBefore, services);
      if (storedBeforeReady >= TOTAL_ROWS)
        throw new Error(`all ${TOTAL_ROWS} rows were stored before the persistors were ready: the gate did not hold`);

      // 4. what each persistor did, and what the store holds
      const processes: PersistorProcess[] = [];
      for (const [i, p] of ordered.entries()) {
        const metrics = await readMetrics(p);
        const before = cpuBefore[i];
        const after = cpuAfter[i];
        processes.push({
          pid: p.pid,
          readyAfterSeconds: readyAfter[i],
          cpuSeconds: before === undefined || after === undefined ? null : after - before,
          rowsCommitted: metrics('persist_rows_total'),
          commits: metrics('persist_batch_commit_seconds_count'),
          commitSeconds: metrics('persist_batch_commit_seconds_sum'),
        });
      }
      await checkStored(db, schema, readings);

      const seconds = (doneAt - readyAt) / 1000;
      return {
        persistors: count,
        rows: TOTAL_ROWS,
        seconds,
        rowsPerS: (TOTAL_ROWS - storedBeforeReady) / seconds,
        storedBeforeReady,
        secondsFromSpawn: (doneAt - spawnedAt) / 1000,
        processes,
        ...(serviceCpuSeconds ? { serviceCpuSeconds } : {}),
        polls,
        pollsWithSeriesLockWait,
        streamMessages: stream.messages,
        streamBytes: stream.bytes,
        resources: { schema, busStreamPrefix: streamPrefix },
      };
    } finally {
      if (!gateOpen) await gate.query('ROLLBACK').catch(() => undefined);
      await gate.end();
      await Promise.all(persistors.map((p) => p.close().catch((err: Error) => console.error(err.message))));
      await db.end();
    }
  });
}

/** Messages and bytes waiting in the stream of topic `readings` (`<prefix>_READINGS`). */
async function readingsStream(prefix: string): Promise<{ messages: number; bytes: number }> {
  const nc = await connect({ servers: busUrl(), name: 'wattline-bench-persistors' });
  try {
    const jsm = await nc.jetstreamManager();
    const { state } = await jsm.streams.info(`${prefix}_READINGS`);
    return { messages: state.messages, bytes: state.bytes };
  } finally {
    await nc.close();
  }
}

/** Counters without labels from a process's `/metrics`. */
async function readMetrics(server: ServerProcess): Promise<(name: string) => number> {
  const client = createHttpClient(server.url);
  try {
    const res = await client.get('/metrics');
    if (res.status !== 200) throw new Error(`/metrics of ${server.url} answered ${res.status}`);
    return (name) => {
      const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text);
      if (!match) throw new Error(`/metrics of ${server.url} has no ${name}`);
      return Number(match[1]);
    };
  } finally {
    client.close();
  }
}

/** Every series holds exactly the points sent, with the same sum of values, and its catalog count agrees. */
async function checkStored(db: pg.Client, schema: string, readings: PowerReadings) {
  const { rows } = await db.query<{ key: string; catalogued: string; stored: string; sum: number | null }>(
    `SELECT s.key, s.count AS catalogued, count(r.ts) AS stored, sum(r.value) AS sum
     FROM ${schema}.series s LEFT JOIN ${schema}.readings r ON r.series_id = s.id
     GROUP BY s.key, s.count ORDER BY s.key`,
  );
  if (rows.length !== readings.seriesKeys.length)
    throw new Error(`the store holds ${rows.length} series, expected ${readings.seriesKeys.length}`);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  readings.seriesKeys.forEach((key, s) => {
    const row = byKey.get(key);
    let sum = 0;
    for (let m = 0; m < readings.pointCount; m++) sum += readings.valuesW[s * readings.pointCount + m];
    const stored = Number(row?.stored);
    const catalogued = Number(row?.catalogued);
    const storedSum = Number(row?.sum);
    if (!row || stored !== readings.pointCount || catalogued !== readings.pointCount)
      throw new Error(`${key}: ${stored} readings stored (catalog: ${catalogued}), expected ${readings.pointCount}`);
    if (Math.abs(storedSum - sum) > 1e-9 * Math.abs(sum))
      throw new Error(`${key}: the stored values sum to ${storedSum}, expected ${sum}`);
  });
}
