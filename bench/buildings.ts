/**
 * Buildings benchmark (issue 14, "Speed"), on the embedded stack, each part on a fresh server
 * process (bench/lib/server.ts):
 *
 * 1. Reads. 50 rooms × 20 sensors (per room 6 power W gauges, 4 energy kWh counters, 4
 *    temperature, 2 humidity, 2 CO2, 2 occupancy), registered over the API. The power and energy
 *    sensors get a month (30 days) of 1-minute readings ending now, loaded one "slot" (that sensor of
 *    every room: 50 series, 2.16M readings) at a time until `BENCH_BUILDINGS_LOAD_BUDGET_MS`
 *    (default 2 minutes) has passed; the slots left and every other sensor get the last day. Then the
 *    store is compacted, room metrics are computed once (`POST /api/v1/rooms/metrics`) and, after a
 *    warm-up, `GET /api/v1/rooms`, `GET /api/v1/analytics/summary?hours=24` and
 *    `GET /api/v1/analytics/energy?window=1d` over the month are timed in turn, 20 times, client-side
 *    (full HTTP round trips), with the query cache off (`query.cacheSize=0`). Diagnostic rows time
 *    what the summary is made of through public routes: the energy of every sensor over the 24 hours
 *    (`/analytics/energy` with one bucket; then `/api/v1/energy` for the power gauges and the energy
 *    counters apart), the count of those readings that `energy.maxReadings`' check makes when the
 *    series hold more than it in all, and the peak power query (`/api/v1/query`, max per 15 min of
 *    the power sensors). The month's energy covers more readings than `energy.maxReadings` (5M)
 *    allows, so that server runs with it raised (at the default that row would be a 400).
 * 2. Live fan-out. One WebSocket client subscribed to `series: ["*"]` while 50,000 readings/s
 *    are ingested (10 NDJSON bodies of 5,000 lines a second, sent on schedule without waiting for the
 *    previous answer, for 10 s, 100 series): readings sent (acknowledged) and received, the largest
 *    lag (receive time − the acknowledgement of the reading's body; also − its send time) and how the
 *    connection ended (1013 = cut for falling behind). Run at the default `buildings.wsMaxQueued`
 *    and with it raised to 1,000,000, to show what the bound does.
 * 3. Idle clients. 500 WebSocket clients each subscribed to 3 exact series: the server's RSS
 *    before they connect and once all are subscribed, and the cost per client.
 * `BENCH_BUILDINGS_PARTS` (default `reads,live,idle`) picks parts. Linux only (RSS from /proc).
 */
import path from 'node:path';
import WebSocket from 'ws';
import { pollCatalog } from './lib/catalog.js';
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import { createMulberry32, DAY_MS, MINUTE_MS } from './lib/power-readings.js';
import { readMemory } from './lib/process-memory.js';
import { describeMachine, formatMs, median, percentile, printTable, writeResults } from './lib/report.js';
import { describeStack, EMBEDDED, type Stack } from './lib/server-stack.js';

const MB = 2 ** 20;
const WARMUP = 3;
const ITERATIONS = 20;
const ROOMS = 50;
const MONTH_DAYS = 30;
const MONTH_MINUTES = MONTH_DAYS * 1440;
const LOAD_BUDGET_MS = Number(process.env.BENCH_BUILDINGS_LOAD_BUDGET_MS ?? 120_000);
const LOAD_LINES_PER_BODY = 20_000;
const STORED_DEADLINE_MS = 300_000;
/** The sensors of one room, in the order their slots are loaded with a month (power and energy first). */
const ROOM_SENSORS: { type: string; count: number }[] = [
  { type: 'power', count: 6 },
  { type: 'energy', count: 4 },
  { type: 'temperature', count: 4 },
  { type: 'humidity', count: 2 },
  { type: 'co2', count: 2 },
  { type: 'occupancy', count: 2 },
];
const MONTH_TYPES = new Set(['power', 'energy']);

const LIVE_RATE = 50_000;
const LIVE_BODY_LINES = 5_000;
const LIVE_SECONDS = 10;
const LIVE_SERIES = 100;
/** Once ingest is done, a client that received nothing for this long has everything it will get. */
const QUIET_MS = 3_000;
const IDLE_CLIENTS = 500;
const IDLE_SERIES_EACH = 3;
const RAISED_MAX_QUEUED = 1_000_000;

interface Sensor {
  id: string;
  type: string;
  room: number;
  /** Index of its slot: the same sensor of every room is loaded together. */
  slot: number;
}

interface TimedRow {
  id: string;
  workload: string;
  samplesMs: number[];
}

interface LiveRow {
  maxQueued: number;
  sent: number;
  received: number;
  ingestSeconds: number;
  maxLagAckMs: number;
  maxLagSendMs: number;
  closed: string;
}

interface IdleRow {
  clients: number;
  beforeBytes: number;
  afterBytes: number;
  connected: number;
}

export async function run(options: { stack?: Stack; serverCpuProfDir?: string } = {}): Promise<void> {
  const startedAt = new Date();
  const stack = options.stack ?? EMBEDDED;

  const parts = new Set((process.env.BENCH_BUILDINGS_PARTS ?? 'reads,live,idle').split(','));
  const live: LiveRow[] = [];
  let idle: IdleRow | undefined;
  if (parts.has('live') || parts.has('idle'))
    await withStackDataDir(stack, (dataDir, env) =>
      withServerProcess({ dataDir, env }, async (server, client) => {
        if (parts.has('idle')) idle = await idleClients(server.url, server.pid, client);
        if (parts.has('live')) live.push(await liveFanOut(server.url, server.key, client, 1000));
      }),
    );
  if (parts.has('live'))
    await withStackDataDir(stack, (dataDir, env) =>
      withServerProcess(
        { dataDir, env: { ...env, WATTLINE_BUILDINGS_WS_MAX_QUEUED: String(RAISED_MAX_QUEUED) } },
        async (server, client) => {
          live.push(await liveFanOut(server.url, server.key, client, RAISED_MAX_QUEUED));
        },
      ),
    );

  const reads = !parts.has('reads')
    ? undefined
    : await withStackDataDir(stack, (dataDir, env) =>
        withServerProcess(
          {
            dataDir,
            cpuProfDir: options.serverCpuProfDir,
            env: { ...env, WATTLINE_QUERY_CACHE_SIZE: '0', WATTLINE_ENERGY_MAX_READINGS: '100000000' },
          },
          async (server, client) => readRows(server, client),
        ),
      );

  if (reads) {
    console.log();
    printTable(
      ['reads (median of 20, p95)', 'time', 'target'],
      reads.rows.map((r) => [
        r.workload,
        `${formatMs(median(r.samplesMs))} (p95 ${formatMs(percentile(r.samplesMs, 95))})`,
        r.id === 'rooms' || r.id === 'summary' ? '< 50 ms' : '',
      ]),
    );
    console.log(`workload: ${reads.workload}`);
  }
  if (live.length) {
    console.log();
    printTable(
      ['live: 1 client, series ["*"]', 'sent', 'received', 'ingest', 'max lag after ack (after send)', 'ended'],
      live.map((l) => [
        `wsMaxQueued ${l.maxQueued.toLocaleString('en-US')}`,
        l.sent.toLocaleString('en-US'),
        l.received.toLocaleString('en-US'),
        `${l.ingestSeconds.toFixed(1)} s (${Math.round(l.sent / l.ingestSeconds).toLocaleString('en-US')}/s)`,
        `${formatMs(l.maxLagAckMs)} (${formatMs(l.maxLagSendMs)})`,
        l.closed,
      ]),
    );
  }
  if (idle) {
    console.log();
    printTable(
      ['idle clients', 'RSS before', 'RSS after', 'cost', 'per client', 'target'],
      [
        [
          `${idle.connected} connected, ${IDLE_SERIES_EACH} series each`,
          `${(idle.beforeBytes / MB).toFixed(1)} MB`,
          `${(idle.afterBytes / MB).toFixed(1)} MB`,
          `${((idle.afterBytes - idle.beforeBytes) / MB).toFixed(1)} MB`,
          `${((idle.afterBytes - idle.beforeBytes) / idle.clients / 1024).toFixed(1)} KiB`,
          `< 100 MB for ${IDLE_CLIENTS}`,
        ],
      ],
    );
  }
  const file = writeResults('buildings', startedAt, {
    benchmark: 'buildings',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    stack: describeStack(stack),
    reads: reads && {
      workload: reads.workload,
      loadSeconds: reads.loadSeconds,
      monthSensors: reads.monthSensors,
      rows: reads.rows.map((r) => ({
        id: r.id,
        workload: r.workload,
        medianMs: median(r.samplesMs),
        p95Ms: percentile(r.samplesMs, 95),
        samplesMs: r.samplesMs,
      })),
    },
    live,
    idle,
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

// --- 1. reads

async function readRows(
  server: { key: string; compact(): Promise<void> },
  client: HttpClient,
): Promise<{ rows: TimedRow[]; workload: string; loadSeconds: number; monthSensors: number }> {
  const auth = { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' };
  const sensors: Sensor[] = [];
  for (let r = 0; r < ROOMS; r++) {
    let slot = 0;
    for (const { type, count } of ROOM_SENSORS)
      for (let k = 0; k < count; k++)
        sensors.push({ id: `${roomName(r).replace(' ', '-')}-${type}-${k}`, type, room: r, slot: slot++ });
  }
  const registerStarted = performance.now();
  for (let r = 0; r < ROOMS; r++)
    await expectStatus(
      client.post('/api/v1/rooms', json({ name: roomName(r), floor: Math.floor(r / 10), area_m2: 40 }), auth),
      201,
      'POST /api/v1/rooms',
    );
  await inParallel(sensors, 4, (s) =>
    expectStatus(
      client.post(
        '/api/v1/sensors',
        json({ sensor_id: s.id, name: `${s.type} ${s.slot}`, sensor_type: s.type, room: roomName(s.room) }),
        auth,
      ),
      201,
      'POST /api/v1/sensors',
    ),
  );
  console.log(`registered ${ROOMS} rooms and ${sensors.length} sensors in ${seconds(registerStarted)} s`);

  const endTs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const gen = createGenerator(sensors);
  const expected = new Map<string, number>();
  const slots = Math.max(...sensors.map((s) => s.slot)) + 1;
  const loadStarted = performance.now();
  let monthSlots = 0;
  for (let slot = 0; slot < slots; slot++) {
    const group = sensors.filter((s) => s.slot === slot);
    const month = MONTH_TYPES.has(group[0].type) && performance.now() - loadStarted < LOAD_BUDGET_MS;
    const minutes = month ? MONTH_MINUTES : 1440;
    if (month) monthSlots++;
    await ingestGroup(client, server.key, gen, group, endTs - (minutes - 1) * MINUTE_MS, minutes);
    for (const s of group) expected.set(`sensors/${s.id}`, minutes);
  }
  const sent = [...expected.values()].reduce((a, b) => a + b, 0);
  await pollCatalog(client, (c) => c.filter((e) => expected.get(e.key) === e.count).length === expected.size, {
    timeoutMs: STORED_DEADLINE_MS,
    describe: () => 'the catalog does not show every reading stored',
  });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  console.log(`ingested ${sent.toLocaleString('en-US')} readings in ${loadSeconds.toFixed(1)} s`);
  const compactStarted = performance.now();
  await server.compact();
  console.log(`compacted in ${seconds(compactStarted)} s`);
  const metricsStarted = performance.now();
  await expectStatus(client.post('/api/v1/rooms/metrics', Buffer.from('{}'), auth), 200, 'POST /api/v1/rooms/metrics');
  console.log(`room metrics computed (POST /api/v1/rooms/metrics) in ${formatMs(performance.now() - metricsStarted)}`);

  const monthSensors = monthSlots * ROOMS;
  const keysOf = (type: string) => sensors.filter((s) => s.type === type).map((s) => `sensors/${s.id}`);
  const powerKeys = keysOf('power');
  const counterKeys = keysOf('energy');
  const energyKeys = [...powerKeys, ...counterKeys];
  const monthStart = endTs - MONTH_DAYS * DAY_MS;
  const cases: { id: string; workload: string; path: () => string; check: (body: string) => void }[] = [
    {
      id: 'rooms',
      workload: 'GET /api/v1/rooms',
      path: () => '/api/v1/rooms',
      check: (text) => {
        const { rooms } = JSON.parse(text) as {
          rooms: { sensor_count: number; metrics: { power_w: number | null } }[];
        };
        if (rooms.length !== ROOMS || rooms.some((r) => r.sensor_count !== 20 || r.metrics.power_w === null))
          throw new Error(`rooms: ${text.slice(0, 300)}`);
      },
    },
    {
      id: 'summary',
      workload: 'GET /api/v1/analytics/summary?hours=24',
      path: () => '/api/v1/analytics/summary?hours=24',
      check: (text) => {
        const s = JSON.parse(text) as { total_sensors: number; total_rooms: number; peak_power_w: number | null };
        if (s.total_sensors !== sensors.length || s.total_rooms !== ROOMS || !(s.peak_power_w! > 0))
          throw new Error(`summary: ${text.slice(0, 300)}`);
      },
    },
    {
      id: 'energy-month',
      workload: `GET /api/v1/analytics/energy?window=1d, the ${MONTH_DAYS} days`,
      path: () => `/api/v1/analytics/energy?start=${monthStart}&end=${endTs + MINUTE_MS}&window=1d`,
      check: (text) => {
        const e = JSON.parse(text) as { rooms: unknown[]; total: { points: unknown[]; energy_kwh: number } };
        if (e.rooms.length !== ROOMS || e.total.points.length < MONTH_DAYS || !(e.total.energy_kwh > 0))
          throw new Error(`energy: ${text.slice(0, 300)}`);
      },
    },
    {
      id: 'diag-energy-24h',
      workload: '  part of summary: /analytics/energy, 24 h in one bucket',
      path: () => {
        const now = Date.now();
        return `/api/v1/analytics/energy?start=${now - DAY_MS}&end=${now}`;
      },
      check: (text) => {
        if (!((JSON.parse(text) as { total: { energy_kwh: number } }).total.energy_kwh > 0))
          throw new Error(`energy 24h: ${text.slice(0, 300)}`);
      },
    },
    {
      id: 'diag-energy-power',
      workload: `    of which the ${powerKeys.length} power gauges: /api/v1/energy, 24 h`,
      path: () => {
        const now = Date.now();
        return `/api/v1/energy?series=${powerKeys.join(',')}&start=${now - DAY_MS}&end=${now}&unit=kWh`;
      },
      check: (text) => checkResults(text, powerKeys.length),
    },
    {
      id: 'diag-energy-counters',
      workload: `    of which the ${counterKeys.length} energy counters: /api/v1/energy, 24 h`,
      path: () => {
        const now = Date.now();
        return `/api/v1/energy?series=${counterKeys.join(',')}&start=${now - DAY_MS}&end=${now}&unit=kWh`;
      },
      check: (text) => checkResults(text, counterKeys.length),
    },
    {
      id: 'diag-count',
      workload: `  at energy.maxReadings' default also: a count of the 24 h (/api/v1/query agg=count, ${energyKeys.length} series)`,
      path: () => {
        const now = Date.now();
        return `/api/v1/query?series=${energyKeys.join(',')}&start=${now - DAY_MS}&end=${now}&window=1d&agg=count`;
      },
      check: (text) => checkResults(text, energyKeys.length),
    },
    {
      id: 'diag-peak',
      workload: `  part of summary: /api/v1/query max per 15m, ${powerKeys.length} power series, 24 h`,
      path: () => {
        const now = Date.now();
        return `/api/v1/query?series=${powerKeys.join(',')}&start=${now - DAY_MS}&end=${now}&window=15m&agg=max`;
      },
      check: (text) => {
        if ((JSON.parse(text) as { results: unknown[] }).results.length !== powerKeys.length)
          throw new Error(`peak: ${text.slice(0, 300)}`);
      },
    },
  ];
  const rows: TimedRow[] = cases.map((c) => ({ id: c.id, workload: c.workload, samplesMs: [] }));
  // the summary keeps finished 15-minute slots between requests: its first request reads them all
  const firstSummary = cases.find((c) => c.id === 'summary')!;
  const started = performance.now();
  const first = await client.get(firstSummary.path());
  rows.splice(2, 0, {
    id: 'summary-first',
    workload: '  its first request after start (nothing kept yet; one sample)',
    samplesMs: [performance.now() - started],
  });
  firstSummary.check(first.text);
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    for (const c of cases) {
      const p = c.path();
      const started = performance.now();
      const res = await client.get(p);
      const ms = performance.now() - started;
      if (res.status !== 200)
        throw new Error(`GET ${p.slice(0, 200)} answered ${res.status}: ${res.text.slice(0, 500)}`);
      c.check(res.text);
      if (i >= WARMUP) rows.find((r) => r.id === c.id)!.samplesMs.push(ms);
    }
  }
  const monthReadings = monthSensors * MONTH_MINUTES;
  const workload =
    `${ROOMS} rooms × 20 sensors; ${monthSensors} power/energy sensors with a month of 1-minute readings ` +
    `(${monthReadings.toLocaleString('en-US')}), the other ${sensors.length - monthSensors} with the last day; ` +
    `${sent.toLocaleString('en-US')} readings, loaded in ${loadSeconds.toFixed(0)} s (budget ${LOAD_BUDGET_MS / 1000} s), compacted; query cache off`;
  return { rows, workload, loadSeconds, monthSensors };
}

function checkResults(text: string, series: number) {
  if ((JSON.parse(text) as { results?: unknown[] }).results?.length !== series)
    throw new Error(`expected ${series} results: ${text.slice(0, 300)}`);
}

const roomName = (r: number) => `Room ${String(r + 1).padStart(2, '0')}`;

/** The next value of each sensor, minute after minute: plausible shapes, deterministic. */
function createGenerator(sensors: readonly Sensor[]) {
  const random = createMulberry32(14);
  const base = new Map(
    sensors.map((s) => [s.id, { level: random(), phase: 2 * Math.PI * random(), kwh: 1000 * random() }]),
  );
  return (s: Sensor, tsMs: number): number => {
    const b = base.get(s.id)!;
    const day = Math.sin((2 * Math.PI * (tsMs % DAY_MS)) / DAY_MS + b.phase);
    const noise = random() - 0.5;
    switch (s.type) {
      case 'power':
        return Math.round((100 + 2900 * b.level) * (1 + 0.35 * day + 0.1 * noise) * 10) / 10;
      case 'energy':
        // a meter of 0.5–5 kW, read every minute: whole Wh, so readings stay exact decimals
        b.kwh = Math.round((b.kwh + ((500 + 4500 * b.level) * (1 + 0.35 * day)) / 60 / 1000) * 1000) / 1000;
        return b.kwh;
      case 'temperature':
        return Math.round((21 + 2 * day + noise) * 10) / 10;
      case 'humidity':
        return Math.round(45 + 10 * day + 2 * noise);
      case 'co2':
        return Math.round(600 + 300 * day + 50 * noise);
      default:
        return Math.max(0, Math.round(4 * day + 4 * noise));
    }
  };
}

/** The group's readings from `firstTs`, `minutes` of them, time-major, two bodies in flight. */
async function ingestGroup(
  client: HttpClient,
  key: string,
  gen: (s: Sensor, tsMs: number) => number,
  group: readonly Sensor[],
  firstTs: number,
  minutes: number,
) {
  const inFlight = new Set<Promise<void>>();
  let lines: string[] = [];
  const flush = async () => {
    const body = Buffer.from(`${lines.join('\n')}\n`);
    const count = lines.length;
    lines = [];
    const p = postNdjson(client, key, body, count).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 2) await Promise.race(inFlight);
  };
  for (let m = 0; m < minutes; m++) {
    const ts = firstTs + m * MINUTE_MS;
    for (const s of group) {
      lines.push(`{"series":"sensors/${s.id}","value":${gen(s, ts)},"ts":${ts}}`);
      if (lines.length === LOAD_LINES_PER_BODY) await flush();
    }
  }
  if (lines.length) await flush();
  await Promise.all(inFlight);
}

/** Posts an NDJSON body; a 503 (bus full) or 429 is sent again after a pause, as a client should. */
async function postNdjson(client: HttpClient, key: string, body: Buffer, lines: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await client.post('/ingest', body, {
      authorization: `Bearer ${key}`,
      'content-type': 'application/x-ndjson',
    });
    if ((res.status === 503 || res.status === 429) && attempt < 50) {
      await sleep(200);
      continue;
    }
    const { accepted } = JSON.parse(res.text) as { accepted?: number };
    if (res.status !== 200 || accepted !== lines)
      throw new Error(`POST /ingest (${res.status}) accepted ${accepted} of ${lines} lines: ${res.text.slice(0, 500)}`);
    return;
  }
}

// --- 2. live fan-out

async function liveFanOut(url: string, key: string, client: HttpClient, maxQueued: number): Promise<LiveRow> {
  const bodies = LIVE_RATE / LIVE_BODY_LINES;
  const total = bodies * LIVE_SECONDS;
  const t0 = Date.now();
  // reading n has ts t0 + n (ms), so a received timestamp names its body
  const payloads = Array.from({ length: total }, (_, b) => {
    const lines: string[] = [];
    for (let i = 0; i < LIVE_BODY_LINES; i++) {
      const n = b * LIVE_BODY_LINES + i;
      lines.push(`{"series":"live/${n % LIVE_SERIES}","value":${n},"ts":${t0 + n}}`);
    }
    return Buffer.from(`${lines.join('\n')}\n`);
  });
  const sentAt = new Float64Array(total);
  const ackAt = new Float64Array(total).fill(Number.NaN);
  const receivedAt: number[] = [];
  const receivedBody: number[] = [];

  const ws = await openWs(url);
  let ended = 'open';
  let lastMessage = performance.now();
  const closed = new Promise<void>((resolve) =>
    ws.on('close', (code, reason) => {
      ended = `closed ${code}${reason.length ? ` (${reason.toString()})` : ''}`;
      resolve();
    }),
  );
  ws.on('message', (data) => {
    const now = performance.now();
    lastMessage = now;
    const text = data.toString();
    const at = text.indexOf('"timestamp":"');
    if (!text.startsWith('{"type":"reading"') || at < 0) return;
    const ts = Date.parse(text.slice(at + 13, at + 37));
    receivedAt.push(now);
    receivedBody.push(Math.floor((ts - t0) / LIVE_BODY_LINES));
  });
  await subscribe(ws, { action: 'subscribe', series: ['*'] });

  const started = performance.now();
  const posts: Promise<void>[] = [];
  for (let b = 0; b < total; b++) {
    const due = started + (b * 1000) / bodies;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sentAt[b] = performance.now();
    posts.push(
      postNdjson(client, key, payloads[b], LIVE_BODY_LINES).then(() => {
        ackAt[b] = performance.now();
      }),
    );
  }
  await Promise.all(posts);
  const ingestSeconds = (performance.now() - started) / 1000;
  // what the client will still get arrives while it keeps receiving
  while (ended === 'open' && receivedAt.length < total && performance.now() - lastMessage < QUIET_MS) await sleep(100);
  let maxLagAckMs = 0;
  let maxLagSendMs = 0;
  for (let i = 0; i < receivedAt.length; i++) {
    const b = receivedBody[i];
    maxLagAckMs = Math.max(maxLagAckMs, receivedAt[i] - ackAt[b]);
    maxLagSendMs = Math.max(maxLagSendMs, receivedAt[i] - sentAt[b]);
  }
  if (ended === 'open') {
    ws.close();
    await closed;
    ended = 'kept open';
  }
  const row = {
    maxQueued,
    sent: total * LIVE_BODY_LINES,
    received: receivedAt.length,
    ingestSeconds,
    maxLagAckMs,
    maxLagSendMs,
    closed: ended,
  };
  console.log(`live (wsMaxQueued ${maxQueued}): ${JSON.stringify(row)}`);
  return row;
}

// --- 3. idle clients

async function idleClients(url: string, pid: number, client: HttpClient): Promise<IdleRow> {
  // one client first, so the WebSocket code is loaded before the baseline
  const first = await openWs(url);
  await subscribe(first, { action: 'subscribe', series: ['warmup/a'] });
  first.close();
  await sleep(2000);
  const beforeBytes = readMemory(pid).rssBytes;
  const sockets: WebSocket[] = [];
  await inParallel(
    Array.from({ length: IDLE_CLIENTS }, (_, i) => i),
    25,
    async (i) => {
      const ws = await openWs(url);
      sockets.push(ws);
      const series = Array.from({ length: IDLE_SERIES_EACH }, (_, k) => `idle/${i}/${k}`);
      await subscribe(ws, { action: 'subscribe', series });
    },
  );
  await sleep(2000);
  const afterBytes = readMemory(pid).rssBytes;
  const metrics = await client.get('/metrics');
  const connected = Number(/^ws_clients (\S+)$/m.exec(metrics.text)?.[1] ?? Number.NaN);
  const closing = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
  for (const ws of sockets) ws.close();
  await Promise.all(closing);
  const row = { clients: IDLE_CLIENTS, beforeBytes, afterBytes, connected };
  console.log(`idle: ${JSON.stringify(row)}`);
  return row;
}

// --- helpers

function openWs(httpUrl: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/api/v1/ws`, ['wattline']);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends a subscribe frame and resolves on the `subscribed` answer. */
function subscribe(ws: WebSocket, message: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const text = data.toString();
      if (text.startsWith('{"type":"subscribed"')) {
        ws.off('message', onMessage);
        resolve();
      } else if (text.startsWith('{"type":"error"')) reject(new Error(text));
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(message));
  });
}

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function expectStatus(response: Promise<{ status: number; text: string }>, status: number, what: string) {
  const res = await response;
  if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 500)}`);
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
