/**
 * Overload benchmark: does a server pushed past what its store can take answer 503 (with
 * `Retry-After`) and keep its write queue near `bus.queueLimit`, or does overload turn into
 * latency? CLIENTS connections each send 20,000-line NDJSON bodies back to back for DURATION_S
 * seconds (a 503 is counted and the client sends its next body at once) against a server with
 * default settings. While they run, `/metrics` is scraped every SCRAPE_MS for the in-process bus's
 * `bus_queue_depth{topic="readings"}` (rows waiting for the persistor); the peak is reported
 * against the limit, with the answers by status and the latency percentiles of the 200s and 503s.
 * Embedded stack only (the queue depth is the in-process bus's).
 */
import http from 'node:http';
import path from 'node:path';
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import { createMulberry32 } from './lib/power-readings.js';
import { describeMachine, formatMs, percentile, printTable, writeResults } from './lib/report.js';
import type { ServerProcess } from './lib/server-process.js';
import { EMBEDDED } from './lib/server-stack.js';

const CLIENTS = Number(process.env.OVERLOAD_CLIENTS ?? 150);
const LINES_PER_BODY = 20_000;
const DURATION_S = Number(process.env.OVERLOAD_SECONDS ?? 30);
const BODIES = 8;
const SERIES = 200;
const SCRAPE_MS = 50;
/** `bus.queueLimit`'s default (src/core/config.ts). */
const QUEUE_LIMIT = 2_000_000;

interface Answer {
  status: number;
  ms: number;
}

export async function run(): Promise<void> {
  const startedAt = new Date();
  const bodies = buildBodies();
  const result = await withStackDataDir(EMBEDDED, (dataDir, env) =>
    withServerProcess({ dataDir, env: { ...env, WATTLINE_DUMPS_DAILY: 'false' } }, (server) => load(server, bodies)),
  );
  const { answers, peakQueue, scrapes, seconds } = result;
  const byStatus = new Map<number, number[]>();
  for (const a of answers) byStatus.set(a.status, [...(byStatus.get(a.status) ?? []), a.ms]);
  const all = answers.map((a) => a.ms);
  const ok = byStatus.get(200) ?? [];
  const refused = byStatus.get(503) ?? [];
  const rowsStored = ok.length * LINES_PER_BODY;

  const workload = `${CLIENTS} connections × ${LINES_PER_BODY.toLocaleString('en-US')}-line bodies for ${DURATION_S} s, default settings, embedded stack`;
  console.log(`\n${workload}`);
  printTable(
    ['requests', '200', '503', 'other', 'queue peak', 'limit', 'p50', 'p99', 'p99 of 200', 'p99 of 503', 'rows/s'],
    [
      [
        String(answers.length),
        String(ok.length),
        String(refused.length),
        String(answers.length - ok.length - refused.length),
        peakQueue.toLocaleString('en-US'),
        QUEUE_LIMIT.toLocaleString('en-US'),
        formatMs(percentile(all, 50)),
        formatMs(percentile(all, 99)),
        ok.length ? formatMs(percentile(ok, 99)) : '-',
        refused.length ? formatMs(percentile(refused, 99)) : '-',
        Math.round(rowsStored / seconds).toLocaleString('en-US'),
      ],
    ],
  );
  const file = writeResults('overload', startedAt, {
    benchmark: 'overload',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    workload: { description: workload, clients: CLIENTS, linesPerBody: LINES_PER_BODY, durationS: DURATION_S },
    rows: [
      {
        requests: answers.length,
        byStatus: Object.fromEntries([...byStatus].map(([s, ms]) => [s, ms.length])),
        peakQueueRows: peakQueue,
        queueLimit: QUEUE_LIMIT,
        scrapes,
        p50Ms: percentile(all, 50),
        p99Ms: percentile(all, 99),
        p99OkMs: ok.length ? percentile(ok, 99) : null,
        p99RefusedMs: refused.length ? percentile(refused, 99) : null,
        rowsPerS: rowsStored / seconds,
        value: percentile(all, 99),
        unit: 'ms',
      },
    ],
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

/** A few distinct bodies of LINES_PER_BODY readings (seeded), shared by every client. */
function buildBodies(): Buffer[] {
  const random = createMulberry32(11);
  const out: Buffer[] = [];
  for (let b = 0; b < BODIES; b++) {
    let text = '';
    for (let i = 0; i < LINES_PER_BODY; i++) {
      const series = `overload/s${Math.floor(random() * SERIES)}`;
      text += `{"series":"${series}","value":${(random() * 1000).toFixed(3)},"ts":${1_700_000_000_000 + (b * LINES_PER_BODY + i) * 1000}}\n`;
    }
    out.push(Buffer.from(text));
  }
  return out;
}

async function load(server: ServerProcess, bodies: Buffer[]) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 1 });
  const url = new URL(server.url);
  const answers: Answer[] = [];
  let peakQueue = 0;
  let scrapes = 0;
  const started = performance.now();
  const deadline = started + DURATION_S * 1000;

  const post = (body: Buffer) =>
    new Promise<Answer>((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/ingest',
          headers: {
            authorization: `Bearer ${server.key}`,
            'content-type': 'application/x-ndjson',
            'content-length': body.length,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
          res.on('error', reject);
        },
      );
      // a 503 may come before the whole body is sent; the server then closes the connection
      req.on('error', (err: NodeJS.ErrnoException) =>
        err.code === 'ECONNRESET' || err.code === 'EPIPE'
          ? resolve({ status: -1, ms: performance.now() - t0 })
          : reject(err),
      );
      req.end(body);
    });

  let scraping = true;
  const scrape = (async () => {
    const metricsAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (scraping) {
      const text = await new Promise<string>((resolve, reject) => {
        http
          .get({ agent: metricsAgent, host: url.hostname, port: url.port, path: '/metrics' }, (res) => {
            let t = '';
            res.on('data', (d: Buffer) => (t += d));
            res.on('end', () => resolve(t));
            res.on('error', reject);
          })
          .on('error', reject);
      });
      scrapes++;
      const m = /^bus_queue_depth\{topic="readings"\} (\d+)/m.exec(text);
      if (m) peakQueue = Math.max(peakQueue, Number(m[1]));
      await new Promise((r) => setTimeout(r, SCRAPE_MS));
    }
    metricsAgent.destroy();
  })();

  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let n = 0; performance.now() < deadline; n++) answers.push(await post(bodies[(c + n) % bodies.length]));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  scraping = false;
  await scrape;
  agent.destroy();
  return { answers, peakQueue, scrapes, seconds };
}
