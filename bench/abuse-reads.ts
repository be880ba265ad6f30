/**
 * Abusive reads without a key (issue #11, points 4 and 8), on the embedded stack, each workload on a
 * fresh server process (bench/lib/server.ts):
 *
 * - `oom`: the 45 requests `/api/v1/query?series=oom$i&start=2022-03-09&end=2024-01-31&window=1m&fill=null`
 *   (series that do not exist; a million filled buckets each), one after the other; the server's
 *   RSS before, at its peak and after. Once fixed these are 400s; `cache-30m` then asks 45 answers
 *   small enough to be answered (window=30m: 33k points, about 5 MB each) and shows the byte bound
 *   of the cache holding them.
 * - `catalog`: 300,000 series (one reading each), then `GET /api/v1/series` as a client would send
 *   it (bytes, time) while `/health` is asked every 10 ms (worst latency), and `/api/status`.
 *
 * `ABUSE_READS_REQUESTS` (default 45) and `ABUSE_READS_SERIES` (default 300000) scale it down.
 * A server that dies (heap exhausted) is reported as such, not as a failed benchmark. Linux only (RSS
 * from /proc).
 */
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import { readMemory, watchMemory } from './lib/process-memory.js';
import { describeMachine, formatMs, printTable, writeResults } from './lib/report.js';
import { EMBEDDED } from './lib/server-stack.js';

const MB = 2 ** 20;
const REQUESTS = Number(process.env.ABUSE_READS_REQUESTS ?? 45);
const SERIES = Number(process.env.ABUSE_READS_SERIES ?? 300_000);
const INGEST_LINES_PER_BODY = 50_000;
const HEALTH_EVERY_MS = 10;

interface QueryRun {
  workload: string;
  requests: number;
  statuses: Record<string, number>;
  answerBytes: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  afterRssBytes: number | null;
  serverDied: boolean;
  seconds: number;
}

interface CatalogRun {
  workload: string;
  series: number;
  catalogStatus: number;
  catalogBytes: number;
  catalogMs: number;
  catalogEntries: number;
  healthSamples: number;
  healthWorstMs: number;
  statusStatus: number;
}

export async function run(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log("the abuse-reads benchmark reads the server's memory from /proc: Linux only, skipped");
    return;
  }
  const startedAt = new Date();
  const queries: QueryRun[] = [];
  queries.push(
    await queryWorkload(
      `${REQUESTS} × 1m over 2 years, fill=null`,
      (i) => `/api/v1/query?series=oom${i}&start=2022-03-09&end=2024-01-31&window=1m&fill=null`,
    ),
  );
  queries.push(
    await queryWorkload(
      `${REQUESTS} × 30m over 2 years, fill=null`,
      (i) => `/api/v1/query?series=cache${i}&start=2022-03-09&end=2024-01-31&window=30m&fill=null`,
    ),
  );
  printTable(
    ['workload', 'statuses', 'answer MB', 'RSS before', 'RSS peak', 'RSS after', 'server', 'time'],
    queries.map((q) => [
      q.workload,
      Object.entries(q.statuses)
        .map(([s, n]) => `${n}×${s}`)
        .join(' '),
      (q.answerBytes / MB).toFixed(1),
      `${(q.baselineRssBytes / MB).toFixed(0)} MB`,
      `${(q.peakRssBytes / MB).toFixed(0)} MB`,
      q.afterRssBytes === null ? '-' : `${(q.afterRssBytes / MB).toFixed(0)} MB`,
      q.serverDied ? 'DIED' : 'alive',
      `${q.seconds.toFixed(1)} s`,
    ]),
  );
  const catalog = await catalogWorkload();
  printTable(
    ['workload', 'GET /api/v1/series', 'bytes', 'entries', 'time', '/health worst (samples)', '/api/status'],
    [
      [
        catalog.workload,
        String(catalog.catalogStatus),
        `${(catalog.catalogBytes / MB).toFixed(2)} MB`,
        String(catalog.catalogEntries),
        formatMs(catalog.catalogMs),
        `${formatMs(catalog.healthWorstMs)} (${catalog.healthSamples})`,
        String(catalog.statusStatus),
      ],
    ],
  );
  const file = writeResults('abuse-reads', startedAt, { machine: describeMachine(), queries, catalog });
  console.log(`results: ${file}`);
}

async function queryWorkload(workload: string, pathOf: (i: number) => string): Promise<QueryRun> {
  return withStackDataDir(EMBEDDED, (dataDir, env) =>
    withServerProcess({ dataDir, env }, async (server, client) => {
      const watch = watchMemory(server.pid, 20);
      const statuses: Record<string, number> = {};
      let answerBytes = 0;
      let serverDied = false;
      const started = performance.now();
      for (let i = 0; i < REQUESTS; i++) {
        try {
          const res = await client.get(pathOf(i));
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          answerBytes = Math.max(answerBytes, res.text.length);
        } catch {
          serverDied = true;
          break;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      let memory: ReturnType<typeof watch.stop> | undefined;
      let afterRssBytes: number | null = null;
      try {
        memory = watch.stop();
        afterRssBytes = readMemory(server.pid).rssBytes;
      } catch {
        serverDied = true;
      }
      return {
        workload,
        requests: REQUESTS,
        statuses,
        answerBytes,
        baselineRssBytes: memory?.baselineBytes ?? 0,
        peakRssBytes: memory?.peakBytes ?? 0,
        afterRssBytes,
        serverDied,
        seconds,
      };
    }),
  ).catch((err: Error) => {
    // a server killed by its heap cannot be closed cleanly: that is the finding, not a bench failure
    console.error(`${workload}: ${err.message}`);
    return {
      workload,
      requests: REQUESTS,
      statuses: {},
      answerBytes: 0,
      baselineRssBytes: 0,
      peakRssBytes: 0,
      afterRssBytes: null,
      serverDied: true,
      seconds: 0,
    };
  });
}

async function catalogWorkload(): Promise<CatalogRun> {
  return withStackDataDir(EMBEDDED, (dataDir, env) =>
    withServerProcess({ dataDir, env }, async (server, client) => {
      for (let from = 0; from < SERIES; from += INGEST_LINES_PER_BODY) {
        const lines: string[] = [];
        for (let i = from; i < Math.min(SERIES, from + INGEST_LINES_PER_BODY); i++)
          lines.push(`{"series":"abuse/catalog/${i}","value":${i},"ts":${1_700_000_000_000 + i}}`);
        const res = await client.post('/ingest', Buffer.from(lines.join('\n') + '\n'), {
          authorization: `Bearer ${server.key}`,
          'content-type': 'application/x-ndjson',
        });
        if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${res.text.slice(0, 300)}`);
      }
      const healthClient = (await import('./lib/http-client.js')).createHttpClient(server.url);
      const health = probeHealth(healthClient);
      const started = performance.now();
      const catalog = await client.get('/api/v1/series');
      const catalogMs = performance.now() - started;
      const { worstMs, samples } = await health.stop();
      healthClient.close();
      const status = await client.get('/api/status');
      const entries = catalog.status === 200 ? (JSON.parse(catalog.text) as { series: unknown[] }).series.length : 0;
      return {
        workload: `${SERIES} series, GET /api/v1/series with no parameters`,
        series: SERIES,
        catalogStatus: catalog.status,
        catalogBytes: Buffer.byteLength(catalog.text),
        catalogMs,
        catalogEntries: entries,
        healthSamples: samples,
        healthWorstMs: worstMs,
        statusStatus: status.status,
      };
    }),
  );
}

/** Asks `/health` every HEALTH_EVERY_MS until stopped; the worst latency seen. */
function probeHealth(client: HttpClient) {
  let running = true;
  let worstMs = 0;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await client.get('/health');
      worstMs = Math.max(worstMs, performance.now() - started);
      samples++;
      await new Promise((r) => setTimeout(r, HEALTH_EVERY_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { worstMs, samples };
    },
  };
}
