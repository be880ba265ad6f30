/**
 * Dashboard benchmark (issue 15, "How it is built"): how long the dashboard takes to show a year of
 * data. On the embedded store (DuckDB, in-process bus): `BENCH_DASHBOARD_SERIES` (default 50) power
 * gauges (W) with one reading a minute over the last `BENCH_DASHBOARD_DAYS` (default 365) days up to
 * now, sent as NDJSON, described with `PUT /api/v1/series/{key}` and compacted. The data directory is
 * kept in the temp directory, named by those two numbers, and topped up to now on the next run (delete
 * `wattline-bench-dashboard-*` there to start afresh).
 *
 * Debian's Chromium (headless, as the browser tests) then loads the Overview and the Power view
 * (`BENCH_DASHBOARD_LINES`, default 6, series as lines; and every gauge, the view's default) for
 * "this year" and "last 24 h", `BENCH_DASHBOARD_LOADS` (default 5) times each, each load in a new
 * browser context (no HTTP cache, no saved state). Per load: first contentful paint (the `paint`
 * performance entry) and the time until every chart has drawn (the view's `aria-busy="false"` with a
 * canvas in every `.chart`), both from the navigation's start; and the page's API requests (resource
 * timing) to show which one is slow. Median of the loads; the target is under 1 s.
 *
 * Twice: once with the server's query answer cache off (`query.cacheSize=0`: every answer is
 * computed, DuckDB's own buffers warm after an untimed first load) and once with it on after one
 * untimed load (the answers a second visitor would get from the cache; a rolling "last 24 h" still
 * misses on the queries that end at now). The cache's hits and misses during the timed loads are
 * printed. The first load after the server starts (the script is bundled then) is printed apart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/browser.js';
import { withServerProcess } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import { createMulberry32, DAY_MS, MINUTE_MS } from './lib/power-readings.js';
import { describeMachine, formatMs, median, printTable, writeResults } from './lib/report.js';
import type { ServerProcess } from './lib/server-process.js';
import { describeStack, EMBEDDED, isEmbedded, type Stack, stackServerEnv } from './lib/server-stack.js';

const SERIES = Number(process.env.BENCH_DASHBOARD_SERIES ?? 50);
const DAYS = Number(process.env.BENCH_DASHBOARD_DAYS ?? 365);
const LOADS = Number(process.env.BENCH_DASHBOARD_LOADS ?? 5);
const LINES = Math.min(SERIES, Number(process.env.BENCH_DASHBOARD_LINES ?? 6));
const LINES_PER_BODY = 20_000;
/** Bodies in flight at once: the next is built while the server stores the one before. */
const IN_FLIGHT = 2;
const TARGET_MS = 1000;
const LOAD_TIMEOUT_MS = 120_000;
/** The series' keys: `bench/dashboard/meter-000/power`… */
/** The embedded stack's environment (a free gRPC port); it holds nothing to clean up. */
const SERVER_ENV = stackServerEnv(EMBEDDED).env;
const keyOf = (s: number) => `bench/dashboard/meter-${String(s).padStart(3, '0')}/power`;

interface Page {
  id: string;
  name: string;
  query: string;
}

interface Load {
  fcpMs: number;
  drawnMs: number;
  charts: number;
  /** API requests: path with query, start and duration (ms from the navigation's start). */
  requests: { name: string; startMs: number; durationMs: number }[];
}

interface Row {
  page: string;
  cache: string;
  loads: Load[];
  cacheHits: number;
  cacheMisses: number;
}

export async function run(options: { stack?: Stack } = {}): Promise<void> {
  const startedAt = new Date();
  if (options.stack && !isEmbedded(options.stack))
    console.log(`the dashboard benchmark runs on the embedded stack only (asked: ${describeStack(options.stack)})`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`);
  const dataDir = await seeded();
  const lines = Array.from({ length: LINES }, (_, s) => keyOf(s)).join(',');
  const pages: Page[] = [];
  for (const period of ['this-year', 'last-24h']) {
    pages.push({ id: `overview-${period}`, name: `Overview, ${period}`, query: `?view=overview&period=${period}` });
    pages.push({
      id: `power-${LINES}-${period}`,
      name: `Power, ${LINES} series, ${period}`,
      query: `?view=power&period=${period}&series=${lines}`,
    });
    pages.push({
      id: `power-all-${period}`,
      name: `Power, all ${SERIES} series, ${period}`,
      query: `?view=power&period=${period}`,
    });
  }

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const rows: Row[] = [];
  const firsts: { cache: string; load: Load }[] = [];
  try {
    for (const [cache, env] of [
      ['off', { WATTLINE_QUERY_CACHE_SIZE: '0' }],
      ['on, after one load', {}],
    ] as const)
      await withServerProcess({ dataDir, env: { ...SERVER_ENV, ...env } }, async (server, client) => {
        for (const [i, page] of pages.entries()) {
          // untimed: bundles the script (first page), reads DuckDB's files in, fills the cache when it is on
          const first = await load(browser, server.url + '/' + page.query);
          if (i === 0) firsts.push({ cache, load: first });
          const hitsBefore = await metric(client, 'query_cache_hits_total');
          const missesBefore = await metric(client, 'query_cache_misses_total');
          const loads: Load[] = [];
          for (let n = 0; n < LOADS; n++) loads.push(await load(browser, server.url + '/' + page.query));
          rows.push({
            page: page.name,
            cache,
            loads,
            cacheHits: (await metric(client, 'query_cache_hits_total')) - hitsBefore,
            cacheMisses: (await metric(client, 'query_cache_misses_total')) - missesBefore,
          });
        }
      });
  } finally {
    await browser.close();
  }

  console.log();
  printTable(
    [
      `page (median of ${LOADS} loads)`,
      'query cache',
      'first paint',
      'all charts drawn',
      'charts',
      'hits/misses',
      'target',
    ],
    rows.map((r) => {
      const drawn = median(r.loads.map((l) => l.drawnMs));
      return [
        r.page,
        r.cache,
        formatMs(median(r.loads.map((l) => l.fcpMs))),
        formatMs(drawn),
        String(r.loads[0].charts),
        `${r.cacheHits}/${r.cacheMisses}`,
        drawn < TARGET_MS ? '< 1 s: met' : '< 1 s: MISSED',
      ];
    }),
  );
  for (const f of firsts)
    console.log(
      `first load after the server started (query cache ${f.cache}; bundles the script): first paint ${formatMs(f.load.fcpMs)}, drawn ${formatMs(f.load.drawnMs)}`,
    );
  console.log('\nslowest API request of each page (median over the loads, ms from navigation start):');
  printTable(
    ['page', 'query cache', 'requests', 'slowest request', 'starts at', 'takes'],
    rows.map((r) => {
      const slowest = slowestRequest(r.loads);
      return [
        r.page,
        r.cache,
        String(r.loads[0].requests.length),
        slowest.name.slice(0, 90),
        formatMs(slowest.startMs),
        formatMs(slowest.durationMs),
      ];
    }),
  );
  const workload = `${SERIES} W gauges × ${DAYS} days of 1-minute readings (${(SERIES * DAYS * 1440).toLocaleString('en-US')}), embedded store, Chromium headless at 1280×900, a new browser context per load`;
  console.log(`workload: ${workload}`);
  const file = writeResults('dashboard', startedAt, {
    benchmark: 'dashboard',
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    workload,
    targetMs: TARGET_MS,
    rows,
    firstLoads: firsts,
  });
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
}

/** The request whose median duration over the loads is the largest (matched by path, query aside). */
function slowestRequest(loads: Load[]) {
  const byPath = new Map<string, { name: string; starts: number[]; durations: number[] }>();
  for (const l of loads)
    for (const r of l.requests) {
      const key = r.name.replace(/(start|end)=[^&]*/g, '$1=…');
      const entry = byPath.get(key) ?? { name: key, starts: [], durations: [] };
      entry.starts.push(r.startMs);
      entry.durations.push(r.durationMs);
      byPath.set(key, entry);
    }
  const all = [...byPath.values()].map((e) => ({
    name: decodeURIComponent(e.name),
    startMs: median(e.starts),
    durationMs: median(e.durations),
  }));
  return all.sort((a, b) => b.durationMs - a.durationMs)[0] ?? { name: '(none)', startMs: 0, durationMs: 0 };
}

/**
 * Notes in `window.drawnAt` the moment the view is drawn with a canvas in each chart. A string, not a
 * function: tsx's helpers (`__name`) in a compiled function do not exist in the page.
 */
const DRAWN_WATCH = `
new MutationObserver((records, observer) => {
  const view = document.querySelector('.view');
  if (view?.getAttribute('aria-busy') !== 'false') return;
  if (![...document.querySelectorAll('.chart')].every((c) => c.querySelector('canvas'))) return;
  window.drawnAt = performance.now();
  observer.disconnect();
}).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-busy'] });
`;

/**
 * One load in a new browser context. A script added before the page's own watches the DOM and notes
 * the moment the view is drawn with a canvas in each chart.
 */
async function load(browser: Browser, url: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.addInitScript(DRAWN_WATCH);
    await page.goto(url);
    await page.waitForFunction(() => 'drawnAt' in window, undefined, { timeout: LOAD_TIMEOUT_MS });
    const measured = await page.evaluate(
      () =>
        new Promise<Omit<Load, 'requests'> & { requests: { name: string; startTime: number; duration: number }[] }>(
          (resolve) => {
            new PerformanceObserver((list, observer) => {
              const fcp = list.getEntriesByName('first-contentful-paint')[0];
              if (!fcp) return;
              observer.disconnect();
              const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
              resolve({
                fcpMs: fcp.startTime,
                drawnMs: (window as unknown as { drawnAt: number }).drawnAt,
                charts: document.querySelectorAll('.chart canvas').length,
                requests: resources
                  .filter((r) => new URL(r.name).pathname.startsWith('/api/'))
                  .map((r) => ({ name: r.name, startTime: r.startTime, duration: r.duration })),
              });
            }).observe({ type: 'paint', buffered: true });
          },
        ),
    );
    const problems = await page.locator('.error').allTextContents();
    if (errors.length || problems.length || measured.charts === 0)
      throw new Error(`${url}: ${[...errors, ...problems].join('; ') || 'no chart drawn'}`);
    return {
      ...measured,
      requests: measured.requests.map((r) => {
        const u = new URL(r.name);
        return { name: u.pathname + u.search, startMs: r.startTime, durationMs: r.duration };
      }),
    };
  } finally {
    await context.close();
  }
}

async function metric(client: HttpClient, name: string): Promise<number> {
  const res = await client.get('/metrics');
  const match = res.text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'));
  return match ? Number(match[1]) : 0;
}

/**
 * The data directory with the readings up to the current minute: made once (a few minutes for the
 * default year of 50 series), then reused and topped up. Its description is kept beside it.
 */
async function seeded(): Promise<string> {
  const dataDir = path.join(os.tmpdir(), `wattline-bench-dashboard-${SERIES}x${DAYS}d`);
  const metaFile = `${dataDir}.json`;
  const meta =
    fs.existsSync(metaFile) && fs.existsSync(dataDir)
      ? (JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { endMs: number })
      : undefined;
  if (!meta) fs.rmSync(dataDir, { recursive: true, force: true });
  const endMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const fromMs = meta ? meta.endMs + MINUTE_MS : endMs - DAYS * DAY_MS;
  if (fromMs > endMs) return dataDir;
  await withServerProcess({ dataDir, env: SERVER_ENV }, async (server, client) => {
    const started = performance.now();
    const sent = await ingestRange(server, client, fromMs, endMs);
    if (!meta) await describeAsGauges(server);
    await server.compact();
    console.log(
      `${meta ? 'topped up' : 'seeded'} ${dataDir}: ${sent.toLocaleString('en-US')} readings sent and compacted in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  });
  fs.writeFileSync(metaFile, JSON.stringify({ series: SERIES, days: DAYS, endMs }) + '\n');
  return dataDir;
}

/** One reading a minute in [fromMs, toMs] for every series: a base load, a daily cycle, noise, spikes. */
async function ingestRange(server: ServerProcess, client: HttpClient, fromMs: number, toMs: number) {
  const random = createMulberry32(SERIES * 1000 + DAYS);
  const base = Array.from({ length: SERIES }, () => 150 + 2850 * random());
  const phase = Array.from({ length: SERIES }, () => 2 * Math.PI * random());
  const keys = Array.from({ length: SERIES }, (_, s) => keyOf(s));
  const inFlight = new Set<Promise<void>>();
  let lines: string[] = [];
  let sent = 0;
  const send = async () => {
    const body = Buffer.from(lines.join('\n') + '\n');
    const count = lines.length;
    lines = [];
    const request = client
      .post('/ingest', body, { authorization: `Bearer ${server.key}`, 'content-type': 'application/x-ndjson' })
      .then((res) => {
        if (res.status !== 200) throw new Error(`POST /ingest answered ${res.status}: ${res.text.slice(0, 300)}`);
        sent += count;
      });
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request)).catch(() => undefined);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  };
  for (let ts = fromMs; ts <= toMs; ts += MINUTE_MS) {
    const dayAngle = (2 * Math.PI * (ts % DAY_MS)) / DAY_MS;
    for (let s = 0; s < SERIES; s++) {
      const noise = 1 + 0.1 * (random() - 0.5);
      const spike = random() < 0.02 ? 2000 * random() : 0;
      const watts = Math.round((base[s] * (1 + 0.35 * Math.sin(dayAngle + phase[s])) * noise + spike) * 10) / 10;
      lines.push(`{"series":"${keys[s]}","value":${watts},"ts":${ts}}`);
    }
    if (lines.length >= LINES_PER_BODY) await send();
  }
  if (lines.length) await send();
  await Promise.all(inFlight);
  return sent;
}

async function describeAsGauges(server: ServerProcess) {
  for (let s = 0; s < SERIES; s++) {
    const res = await fetch(`${server.url}/api/v1/series/${keyOf(s)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ unit: 'W', kind: 'gauge', description: 'dashboard benchmark' }),
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${keyOf(s)}: ${res.status} ${await res.text()}`);
  }
}
