/**
 * Soak test: `npm run soak -- --minutes 10`. One Wattline server process (bench/lib/server.ts, its
 * own temp data directory; embedded store and in-process bus unless `--store postgres` / `--bus nats`)
 * with MQTT devices on the local Mosquitto (`SOAK_MQTT_URL`, else `BENCH_MQTT_URL`, default
 * `mqtt://127.0.0.1:1883`, a topic root and client id of its own per run) takes, all at once and at a
 * fixed rate (an open-loop schedule from the start: what is due is sent whether or not earlier requests
 * were answered, at most MAX_IN_FLIGHT requests per channel at a time, the rest queued in order):
 *   - HTTP NDJSON: `POST /ingest`, `--http-rate` readings/s (default 2,000) over `--http-series` series
 *     `soak/http/mNNN/power` (100), in bodies of `--lines-per-body` lines (200); times follow the clock;
 *   - line protocol: `POST /write?db=soak&precision=ms`, `--lp-rate` points/s (2,000) over `--lp-series`
 *     meters (100; `WATTLINE_INGEST_LINE_PROTOCOL_SERIES_TAGS=meter` makes them `soak_lp/mNNN/w`), same
 *     body size. This is a backfill: one minute apart per meter from some days ago, so finished UTC
 *     days go quiet during the run and the compactor (run every second, quiet after 3 s) sorts them
 *     and writes their rollups under load;
 *   - MQTT: `--mqtt-rate` messages/s (200), QoS 1, Wattline's `json` family, one reading each, over
 *     `--mqtt-devices` series `soak/mqtt/devNN/power` (20); times follow the clock.
 * Every reading's time is distinct within its series and its value a multiple of 0.25 (exact in binary),
 * so stored counts and sums can be compared exactly. Meanwhile: a query every `--query-ms` (250), in
 * turn the last hour's hourly average of 3 HTTP series, the series catalog, and the backfill's daily
 * averages of 3 meters; `--ws-clients` (20) WebSocket clients on `/api/v1/ws` (the first subscribed to
 * `*`, one to a room, the others to one HTTP and one MQTT series each) counting the readings pushed;
 * and the server's background jobs as they run by default, plus a room of 4 sensors whose metrics the
 * jobs role computes every 5 s (`WATTLINE_BUILDINGS_ROOM_METRICS_MS`).
 *
 * Every second it records a sample: the server's RSS (/proc) and JS heap, the event-loop delay from its
 * `/metrics` (`nodejs_eventloop_lag_max_seconds`, `_p99_`: prom-client resets that histogram at each
 * scrape, so with this script the only scraper, each sample's max is the worst delay since the one
 * before), the persistor's queue (`persist_queue_rows`), the bus queue (`bus_queue_depth`,
 * `bus_queue_fill_ratio`), WebSocket clients, compactions, the p99 latency of each client kind in that
 * second (ingest, line protocol, MQTT publish → broker PUBACK, query, reading due → pushed over the
 * WebSocket) and the rows acknowledged so far per channel. The samples, the settings and the verdict go
 * to `bench/results/soak-<ISO time>.json` (rewritten every 10 s while running; `--out <file>`
 * instead). Then the load stops, in-flight requests and retries finish, the backlog drains (queues at 0,
 * every PUBACKed MQTT message stored, persisted rows still for 2 s; at most 2 min), and every series'
 * stored count and sum (`/api/v1/query?window=1d&agg=count` and `agg=sum` over a range covering all of it,
 * buckets summed) is compared with what was acknowledged: an HTTP 200 (NDJSON, `accepted` = every line)
 * or 204 (line protocol), or a broker PUBACK for a QoS 1 message (which the broker then owes Wattline).
 * A refused request (503 when the bus queue is full, any 5xx, 429, a network error) is sent again a
 * second later, until acknowledged or 2 minutes after the load stopped; readings never acknowledged are
 * reported apart, and their series checked for count ≥ acknowledged only (some may have been stored).
 *
 * Fails (exit code 1) when:
 *   (a) memory grows without bound: the median RSS of the load's last quarter exceeds that of its
 *       second quarter by more than max(50 MB, 20 %) AND the last quarter's median is above the third's
 *       (still rising, not a plateau reached after warm-up). The first quarter is warm-up (caches, DuckDB
 *       buffers, JIT) and not compared;
 *   (b) any sample's event-loop delay exceeds 1 s (a stall);
 *   (c) any acknowledged reading is missing, or a series' sum differs from the acknowledged sum.
 *
 * Flags (or the environment variable in brackets): --minutes N [SOAK_MINUTES] (default 10, fractions
 * allowed: 0.5 for a quick check), --http-rate, --lp-rate (readings/s), --mqtt-rate (messages/s),
 * --lines-per-body, --http-series, --lp-series, --mqtt-devices, --ws-clients, --query-ms
 * [SOAK_HTTP_RATE, SOAK_LP_RATE, …: the flag's name upper-cased], --store duckdb|postgres,
 * --bus in-process|nats [SOAK_STORE, SOAK_BUS; PostgreSQL and NATS as in bench/lib/server-stack.ts],
 * --out <file> [SOAK_OUT]. A rate of 0 turns its channel off. Linux only (RSS from /proc).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import type { HttpClient } from './lib/http-client.js';
import { readMemory } from './lib/process-memory.js';
import { describeMachine, formatMs, median, percentile, printTable, writeResults } from './lib/report.js';
import { BUSES, checkServices, describeStack, isEmbedded, STORES, type Stack } from './lib/server-stack.js';
import type { ServerProcess } from './lib/server-process.js';

const MB = 2 ** 20;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const TICK_MS = 10;
const SAMPLE_EVERY_MS = 1000;
const SAVE_EVERY_SAMPLES = 10;
/** Requests of one channel on the wire at once; what is due beyond that waits its turn (and shows as latency). */
const MAX_IN_FLIGHT = 32;
const RETRY_AFTER_MS = 1000;
/** After the load stops: how long refused requests are retried and the backlog may take to drain. */
const DRAIN_TIMEOUT_MS = 120_000;
/** The backlog counts as drained once committed rows have not moved for this long (and the queues are empty). */
const DRAIN_QUIET_MS = 2000;
/** The verification asks for this many series per query. */
const SERIES_PER_CHECK = 20;
/** Latencies kept per client kind for the overall percentiles (reservoir-sampled beyond it). */
const LATENCY_RESERVOIR = 200_000;
const STALL_LIMIT_S = 1;
const GROWTH_LIMIT_BYTES = 50 * MB;
const GROWTH_LIMIT_RATIO = 0.2;
const ROOM = 'Soak room';
const ROOM_SENSORS = 4;

// ---------------------------------------------------------------------------------------------- options

interface Options {
  minutes: number;
  httpRate: number;
  lpRate: number;
  mqttRate: number;
  linesPerBody: number;
  httpSeries: number;
  lpSeries: number;
  mqttDevices: number;
  wsClients: number;
  queryMs: number;
  stack: Stack;
  mqttUrl: string;
  out?: string;
}

const NUMERIC_FLAGS = {
  minutes: 10,
  'http-rate': 2000,
  'lp-rate': 2000,
  'mqtt-rate': 200,
  'lines-per-body': 200,
  'http-series': 100,
  'lp-series': 100,
  'mqtt-devices': 20,
  'ws-clients': 20,
  'query-ms': 250,
} as const;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(NUMERIC_FLAGS).map((name) => [name, { type: 'string' as const }])),
      store: { type: 'string' },
      bus: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const flag = (name: string) =>
    (values as Record<string, string | undefined>)[name] ??
    process.env[`SOAK_${name.toUpperCase().replaceAll('-', '_')}`];
  const number = (name: keyof typeof NUMERIC_FLAGS) => {
    const text = flag(name);
    const value = text === undefined ? NUMERIC_FLAGS[name] : Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0 (got "${text}")`);
    return value;
  };
  const store = flag('store') ?? 'duckdb';
  const bus = flag('bus') ?? 'in-process';
  if (!(STORES as readonly string[]).includes(store)) throw new Error(`--store must be one of ${STORES.join(', ')}`);
  if (!(BUSES as readonly string[]).includes(bus)) throw new Error(`--bus must be one of ${BUSES.join(', ')}`);
  const options: Options = {
    minutes: number('minutes'),
    httpRate: number('http-rate'),
    lpRate: number('lp-rate'),
    mqttRate: number('mqtt-rate'),
    linesPerBody: Math.max(1, Math.round(number('lines-per-body'))),
    httpSeries: Math.max(1, Math.round(number('http-series'))),
    lpSeries: Math.max(1, Math.round(number('lp-series'))),
    mqttDevices: Math.max(1, Math.round(number('mqtt-devices'))),
    wsClients: Math.round(number('ws-clients')),
    queryMs: Math.max(10, number('query-ms')),
    stack: { store: store as Stack['store'], bus: bus as Stack['bus'] },
    mqttUrl: process.env.SOAK_MQTT_URL || process.env.BENCH_MQTT_URL || 'mqtt://127.0.0.1:1883',
    out: flag('out'),
  };
  if (options.minutes <= 0) throw new Error('--minutes must be more than 0');
  return options;
}

// ------------------------------------------------------------------------------ what was acknowledged

type ChannelName = 'http' | 'lp' | 'mqtt';

interface Series {
  key: string;
  channel: ChannelName;
  acknowledged: number;
  acknowledgedSum: number;
  /** Readings sent whose request was never acknowledged (given up): they may or may not be stored. */
  unacknowledged: number;
}

/** Every series of the run with what was acknowledged of it; readings refer to series by index. */
class Ledger {
  readonly series: Series[] = [];
  readonly acknowledgedRows: Record<ChannelName, number> = { http: 0, lp: 0, mqtt: 0 };
  readonly offeredRows: Record<ChannelName, number> = { http: 0, lp: 0, mqtt: 0 };

  add(key: string, channel: ChannelName): number {
    return this.series.push({ key, channel, acknowledged: 0, acknowledgedSum: 0, unacknowledged: 0 }) - 1;
  }

  acknowledge(series: number, value: number) {
    const s = this.series[series];
    s.acknowledged++;
    s.acknowledgedSum += value;
    this.acknowledgedRows[s.channel]++;
  }

  giveUp(series: number) {
    this.series[series].unacknowledged++;
  }
}

/**
 * Readings of one channel on its schedule: the i-th reading due is series `i mod n`, at
 * `origin + floor(i / n) * stepMs`, so times are distinct within a series whatever the rate.
 */
class ReadingSource {
  private emitted = 0;
  readonly seriesIds: number[];

  constructor(
    ledger: Ledger,
    channel: ChannelName,
    keys: readonly string[],
    /** The first reading's time: for the live channels, set again when the load starts (`startAt`). */
    public originMs: number,
    readonly stepMs: number,
  ) {
    this.seriesIds = keys.map((key) => ledger.add(key, channel));
  }

  /** Times follow the clock from `ms` on (the setup before the load takes a while). */
  startAt(ms: number) {
    this.originMs = ms;
  }

  next(): { local: number; series: number; tsMs: number; value: number } {
    const i = this.emitted++;
    const local = i % this.seriesIds.length;
    const k = Math.floor(i / this.seriesIds.length);
    // plausible watts, a multiple of 0.25: every sum of them is exact in a double
    const value = 100 + ((k * 7 + local * 13) % 1000) + (local % 4) * 0.25;
    return { local, series: this.seriesIds[local], tsMs: this.originMs + k * this.stepMs, value };
  }
}

/** Per-series step that keeps a channel's times near the clock: n series at `rate`/s are n/rate s apart. */
const stepFor = (series: number, rate: number) => (rate > 0 ? Math.max(1, Math.floor((series * 1000) / rate)) : 1000);

// -------------------------------------------------------------------------------------------- latency

/** Latencies of one client kind: those of the current second, and a reservoir of all of them. */
class Latencies {
  private second: number[] = [];
  private seen = 0;
  readonly all: number[] = [];

  add(ms: number) {
    this.second.push(ms);
    this.seen++;
    if (this.all.length < LATENCY_RESERVOIR) this.all.push(ms);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < LATENCY_RESERVOIR) this.all[slot] = ms;
    }
  }

  /** p99 of the latencies since the last call (null when none), and starts a new second. */
  takeSecondP99(): number | null {
    const p99 = this.second.length ? percentile(this.second, 99) : null;
    this.second = [];
    return p99;
  }

  summary() {
    return this.all.length
      ? {
          count: this.seen,
          p50Ms: percentile(this.all, 50),
          p99Ms: percentile(this.all, 99),
          maxMs: maxOf(this.all),
        }
      : { count: 0, p50Ms: null, p99Ms: null, maxMs: null };
  }
}

const LATENCY_KINDS = ['http', 'lp', 'mqtt', 'query', 'ws'] as const;
type LatencyKind = (typeof LATENCY_KINDS)[number];
const LATENCY_LABEL: Record<LatencyKind, string> = {
  http: 'POST /ingest → 200',
  lp: 'POST /write → 204',
  mqtt: 'MQTT publish → PUBACK',
  query: 'query → answer',
  ws: 'reading due → WebSocket push',
};

// ----------------------------------------------------------------------------------- HTTP ingest

interface Body {
  bytes: Buffer;
  series: Int32Array;
  values: Float64Array;
  tries: number;
}

/**
 * Sends a channel's bodies as they come due, at most MAX_IN_FLIGHT at a time, the rest queued in
 * order. A refused body is queued again after RETRY_AFTER_MS until `retryUntilMs`; then given up.
 */
class BodySender {
  private readonly queue: Body[] = [];
  private inFlight = 0;
  retryUntilMs = Number.POSITIVE_INFINITY;
  readonly failures: Record<string, number> = {};
  requests = 0;

  constructor(
    private readonly post: (body: Buffer) => Promise<{ status: number; text: string }>,
    /** Whether an answer acknowledges the whole body. */
    private readonly acknowledges: (status: number, text: string, lines: number) => boolean,
    private readonly ledger: Ledger,
    private readonly latencies: Latencies,
  ) {}

  get pending() {
    return this.queue.length + this.inFlight;
  }

  send(body: Body) {
    this.queue.push(body);
    this.pump();
  }

  private pump() {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length) {
      const body = this.queue.shift()!;
      this.inFlight++;
      void this.attempt(body).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async attempt(body: Body) {
    body.tries++;
    this.requests++;
    const started = performance.now();
    let outcome: string;
    try {
      const res = await this.post(body.bytes);
      this.latencies.add(performance.now() - started);
      if (this.acknowledges(res.status, res.text, body.series.length)) {
        for (let i = 0; i < body.series.length; i++) this.ledger.acknowledge(body.series[i], body.values[i]);
        return;
      }
      outcome = `${res.status}`;
      // a 4xx other than 429 will not change when sent again: the script sent something wrong
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        this.count(`${outcome} ${res.text.slice(0, 200)}`);
        return this.giveUp(body);
      }
    } catch (err) {
      outcome = `network: ${(err as Error).message.slice(-80)}`;
    }
    this.count(outcome);
    if (Date.now() >= this.retryUntilMs) return this.giveUp(body);
    // sent again as a real client would: a reading stored twice is stored once
    setTimeout(() => {
      this.queue.unshift(body);
      this.pump();
    }, RETRY_AFTER_MS);
  }

  private count(outcome: string) {
    this.failures[outcome] = (this.failures[outcome] ?? 0) + 1;
  }

  private giveUp(body: Body) {
    for (const series of body.series) this.ledger.giveUp(series);
  }
}

/** Builds bodies of `linesPerBody` readings from a source, each line formatted by `line`. */
function bodyBuilder(
  source: ReadingSource,
  linesPerBody: number,
  line: (r: ReturnType<ReadingSource['next']>) => string,
) {
  return (): Body => {
    const series = new Int32Array(linesPerBody);
    const values = new Float64Array(linesPerBody);
    const lines: string[] = [];
    for (let i = 0; i < linesPerBody; i++) {
      const r = source.next();
      series[i] = r.series;
      values[i] = r.value;
      lines.push(line(r));
    }
    return { bytes: Buffer.from(lines.join('\n') + '\n'), series, values, tries: 0 };
  };
}

// ------------------------------------------------------------------------------------------ MQTT

/** Publishes QoS 1 messages; a PUBACK acknowledges the message's reading. */
class MqttPublisher {
  inFlight = 0;
  readonly failures: Record<string, number> = {};

  constructor(
    private readonly client: MqttClient,
    private readonly topicRoot: string,
    private readonly source: ReadingSource,
    private readonly keys: readonly string[],
    private readonly ledger: Ledger,
    private readonly latencies: Latencies,
  ) {}

  publishNext() {
    const r = this.source.next();
    const payload = JSON.stringify({ series: this.keys[r.local], value: r.value, ts: r.tsMs, unit: 'W' });
    const started = performance.now();
    this.inFlight++;
    this.client.publish(`${this.topicRoot}/dev${r.local}`, payload, { qos: 1 }, (err) => {
      this.inFlight--;
      if (err) {
        this.failures[err.message] = (this.failures[err.message] ?? 0) + 1;
        this.ledger.giveUp(r.series);
        return;
      }
      this.latencies.add(performance.now() - started);
      this.ledger.acknowledge(r.series, r.value);
    });
  }
}

// ------------------------------------------------------------------------------------- WebSocket

interface LiveClient {
  ws: WebSocket;
  /** Series whose readings this client expects, by key; null: every series of the run (`*`). */
  expects: Set<string> | null;
  received: number;
  roomMetrics: number;
  closed?: { code: number; reason: string };
}

/** Opens a WebSocket client, subscribes it and resolves once the server confirmed the subscription. */
function openLiveClient(
  server: ServerProcess,
  subscription: { series?: string[]; rooms?: string[] },
  ownSeries: Set<string>,
  dueLatencies: Latencies,
  backfill: Set<string>,
): Promise<LiveClient> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/v1/ws`, {
    headers: { authorization: `Bearer ${server.key}` },
  });
  const everything = subscription.series?.includes('*') ?? false;
  const client: LiveClient = {
    ws,
    expects: everything ? null : new Set(subscription.series ?? []),
    received: 0,
    roomMetrics: 0,
  };
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', (code, reason) => (client.closed = { code, reason: reason.toString() }));
    ws.on('open', () => ws.send(JSON.stringify({ action: 'subscribe', ...subscription })));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; series?: string; timestamp?: string };
      if (frame.type === 'subscribed') resolve(client);
      else if (frame.type === 'room_metrics') client.roomMetrics++;
      else if (frame.type === 'reading' && frame.series && ownSeries.has(frame.series)) {
        client.received++;
        // the backfill's times are days old: only the live channels say how late a push is
        if (!backfill.has(frame.series)) dueLatencies.add(Date.now() - Date.parse(frame.timestamp!));
      }
    });
  });
}

// ------------------------------------------------------------------------------------------ metrics

/** `/metrics` as name{labels} → value. */
async function scrape(client: HttpClient): Promise<Map<string, number>> {
  const res = await client.get('/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  const out = new Map<string, number>();
  for (const line of res.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** Sum of a metric over all its label sets matching `labels` (a substring of the label text). */
function metricSum(metrics: Map<string, number>, name: string, labels = ''): number {
  let sum = 0;
  for (const [key, value] of metrics)
    if ((key === name || key.startsWith(`${name}{`)) && key.includes(labels) && Number.isFinite(value)) sum += value;
  return sum;
}

function metricMax(metrics: Map<string, number>, name: string, labels = ''): number {
  let max = 0;
  for (const [key, value] of metrics)
    if ((key === name || key.startsWith(`${name}{`)) && key.includes(labels) && Number.isFinite(value))
      max = Math.max(max, value);
  return max;
}

interface Sample {
  /** Seconds since the load started. */
  t: number;
  phase: 'load' | 'drain';
  rssMb: number;
  heapUsedMb: number;
  eventLoopMaxMs: number;
  eventLoopP99Ms: number;
  /** This process's own worst event-loop delay in the second: a late load generator shows here. */
  clientEventLoopMaxMs: number;
  scrapeMs: number;
  persistQueueRows: number;
  busQueueDepth: number;
  busQueueFillRatio: number;
  wsClients: number;
  compactions: number;
  persistedRows: number;
  acknowledged: Record<ChannelName, number>;
  p99Ms: Record<LatencyKind, number | null>;
}

// ---------------------------------------------------------------------------------------------- run

interface Run {
  options: Options;
  ledger: Ledger;
  latencies: Record<LatencyKind, Latencies>;
  samples: Sample[];
  loadSeconds: number;
  drainSeconds: number;
  drained: boolean;
  requests: { http: BodySender | null; lp: BodySender | null };
  mqttFailures: Record<string, number>;
  mqttStored: number;
  queries: { sent: number; failed: Record<string, number> };
  live: {
    client: number;
    subscription: string;
    expected: number;
    received: number;
    roomMetrics: number;
    closed: string | null;
  }[];
  wsCut: number;
  compactions: number;
  checks: SeriesCheck[];
  catalogMismatches: string[];
}

interface SeriesCheck {
  key: string;
  channel: ChannelName;
  acknowledged: number;
  acknowledgedSum: number;
  unacknowledged: number;
  storedCount: number;
  storedSum: number;
}

async function main() {
  const options = parseOptions();
  if (process.platform !== 'linux') throw new Error("the soak reads the server's RSS from /proc: Linux only");
  if (!isEmbedded(options.stack)) await checkServices(options.stack);
  const startedAt = new Date();
  const id = `soak-${randomBytes(4).toString('hex')}`;
  const topicRoot = `wattline-soak/${id}`;
  const env = {
    WATTLINE_MQTT_URL: options.mqttUrl,
    WATTLINE_MQTT_CLIENT_ID: id,
    WATTLINE_MQTT_SUBSCRIPTIONS: JSON.stringify([{ topic: `${topicRoot}/#`, format: 'json' }]),
    WATTLINE_INGEST_LINE_PROTOCOL_SERIES_TAGS: 'meter',
    // shorter than the defaults so the compactor sorts the backfill's finished days within the soak
    WATTLINE_COMPACTION_INTERVAL_MS: '1000',
    WATTLINE_COMPACTION_QUIET_MS: '3000',
    WATTLINE_COMPACTION_DIRTY_WAIT_MS: '15000',
    WATTLINE_BUILDINGS_ROOM_METRICS_MS: '5000',
  };
  const save = (results: unknown) => {
    if (!options.out) return writeResults('soak', startedAt, results);
    fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
    fs.writeFileSync(options.out, JSON.stringify(results, null, 2) + '\n');
    return options.out;
  };
  const settings = { ...options, serverEnv: env, machine: describeMachine(), startedAt: startedAt.toISOString() };
  let run: Run;
  try {
    run = await withStackDataDir(options.stack, (dataDir, stackEnv) =>
      withServerProcess({ dataDir, env: { ...stackEnv, ...env } }, (server, client) =>
        soak(options, server, client, topicRoot, (samples) => save({ settings, verdict: null, samples })),
      ),
    );
  } finally {
    await forgetSession(options.mqttUrl, id).catch((err: Error) => console.error(`MQTT session: ${err.message}`));
  }
  const verdict = judge(run);
  // saved before anything is printed: a long run's samples outlive a mistake in the table
  const file = save({ settings, verdict, summary: summarize(run), samples: run.samples, series: run.checks });
  printSummary(run, verdict);
  console.log(`results: ${file}`);
  console.log(verdict.pass ? 'PASS' : `FAIL: ${verdict.failures.join('; ')}`);
  process.exit(verdict.pass ? 0 : 1);
}

async function soak(
  options: Options,
  server: ServerProcess,
  client: HttpClient,
  topicRoot: string,
  saveProgress: (samples: Sample[]) => void,
): Promise<Run> {
  const ledger = new Ledger();
  const latencies = Object.fromEntries(LATENCY_KINDS.map((k) => [k, new Latencies()])) as Record<
    LatencyKind,
    Latencies
  >;
  const loadMs = options.minutes * MINUTE_MS;
  const nowMs = Math.floor(Date.now() / 1000) * 1000;
  const pad = (n: number) => String(n).padStart(3, '0');

  // the three channels' series and schedules
  const httpKeys = Array.from({ length: options.httpSeries }, (_, i) => `soak/http/m${pad(i)}/power`);
  const lpKeys = Array.from({ length: options.lpSeries }, (_, i) => `soak_lp/m${pad(i)}/w`);
  const mqttKeys = Array.from({ length: options.mqttDevices }, (_, i) => `soak/mqtt/dev${pad(i)}/power`);
  const http = new ReadingSource(ledger, 'http', httpKeys, nowMs, stepFor(options.httpSeries, options.httpRate));
  // the backfill starts far enough back that its last minute is before yesterday: every day it writes is over
  const lpDays = Math.ceil(((loadMs / 1000) * (options.lpRate / options.lpSeries) * MINUTE_MS) / DAY_MS) + 2;
  const lpOrigin = Math.floor(nowMs / DAY_MS) * DAY_MS - lpDays * DAY_MS;
  const lp = new ReadingSource(ledger, 'lp', lpKeys, lpOrigin, MINUTE_MS);
  const mq = new ReadingSource(ledger, 'mqtt', mqttKeys, nowMs, stepFor(options.mqttDevices, options.mqttRate));
  const ownSeries = new Set([...httpKeys, ...lpKeys, ...mqttKeys]);

  const auth = { authorization: `Bearer ${server.key}` };
  const httpSender = new BodySender(
    (body) => client.post('/ingest', body, { ...auth, 'content-type': 'application/x-ndjson' }),
    (status, text, lines) => status === 200 && (JSON.parse(text) as { accepted?: number }).accepted === lines,
    ledger,
    latencies.http,
  );
  const lpSender = new BodySender(
    (body) => client.post('/write?db=soak&precision=ms', body, { ...auth, 'content-type': 'text/plain' }),
    (status) => status === 204,
    ledger,
    latencies.lp,
  );
  const nextHttpBody = bodyBuilder(
    http,
    options.linesPerBody,
    (r) => `{"series":"${httpKeys[r.local]}","value":${r.value},"ts":${r.tsMs},"unit":"W"}`,
  );
  const nextLpBody = bodyBuilder(
    lp,
    options.linesPerBody,
    (r) => `soak_lp,meter=m${pad(r.local)} w=${r.value} ${r.tsMs}`,
  );

  await waitForMqttSubscription(client);
  await createRoom(client, server.key, httpKeys.slice(0, ROOM_SENSORS));
  const publisherClient = await mqtt.connectAsync(options.mqttUrl, {
    clientId: `${topicRoot.replaceAll('/', '-')}-pub`,
  });
  const publisher = new MqttPublisher(publisherClient, topicRoot, mq, mqttKeys, ledger, latencies.mqtt);
  const live = await openLiveClients(options, server, httpKeys, mqttKeys, ownSeries, new Set(lpKeys), latencies.ws);

  const clientLoop = monitorEventLoopDelay({ resolution: 10 });
  clientLoop.enable();
  const samples: Sample[] = [];
  const startMs = Date.now();
  const endMs = startMs + loadMs;
  http.startAt(startMs);
  mq.startAt(startMs);
  // read by the sampler, which runs beside the load: an object, so neither side's checks narrow it
  const sampling: { phase: Sample['phase']; stop: boolean } = { phase: 'load', stop: false };
  let compactionsAtStart: number | undefined;

  // one sample a second on a fixed schedule (start + n s); one that comes due while the last is slow is taken at once
  const sampler = (async () => {
    for (let next = startMs; ; next += SAMPLE_EVERY_MS) {
      await sleep(Math.max(0, next - Date.now()));
      if (sampling.stop) return;
      const sample = await takeSample(server, client, startMs, sampling.phase, ledger, latencies, clientLoop);
      compactionsAtStart ??= sample.compactions;
      samples.push(sample);
      if (samples.length % SAVE_EVERY_SAMPLES === 0) {
        saveProgress(samples);
        const s = sample;
        process.stderr.write(
          `${s.t} s ${s.phase}: RSS ${s.rssMb} MB, loop max ${s.eventLoopMaxMs} ms, persist queue ${s.persistQueueRows}, ` +
            `acknowledged http ${s.acknowledged.http} lp ${s.acknowledged.lp} mqtt ${s.acknowledged.mqtt}\n`,
        );
      }
    }
  })();

  // queries on their own schedule
  const queries = { sent: 0, failed: {} as Record<string, number>, inFlight: 0 };
  const queryPaths = [
    () =>
      `/api/v1/query?series=${httpKeys.slice(0, 3).join(',')}&start=${Date.now() - 3_600_000}&end=${Date.now()}&window=1h&agg=avg`,
    () => '/api/v1/series?prefix=soak&limit=1000',
    () => `/api/v1/query?series=${lpKeys.slice(0, 3).join(',')}&start=${lpOrigin}&end=${Date.now()}&window=1d&agg=avg`,
  ];

  // the load: each tick sends what the schedule owes since the start
  let httpDue = 0;
  let lpDue = 0;
  let mqttSent = 0;
  let nextQueryMs = startMs;
  while (Date.now() < endMs) {
    const elapsed = Date.now() - startMs;
    const owe = (rate: number) => Math.floor((elapsed * rate) / 1000);
    for (; owe(options.httpRate) - httpDue >= options.linesPerBody; httpDue += options.linesPerBody)
      httpSender.send(nextHttpBody());
    for (; owe(options.lpRate) - lpDue >= options.linesPerBody; lpDue += options.linesPerBody)
      lpSender.send(nextLpBody());
    for (; mqttSent < owe(options.mqttRate); mqttSent++) publisher.publishNext();
    if (Date.now() >= nextQueryMs) {
      nextQueryMs += options.queryMs;
      if (queries.inFlight < MAX_IN_FLIGHT)
        void query(client, queryPaths[queries.sent % queryPaths.length](), queries, latencies.query);
    }
    await sleep(TICK_MS);
  }
  const loadSeconds = (Date.now() - startMs) / 1000;
  ledger.offeredRows.http = httpDue;
  ledger.offeredRows.lp = lpDue;
  ledger.offeredRows.mqtt = mqttSent;

  // drain: answers and retries, PUBACKs, then the server's backlog
  sampling.phase = 'drain';
  const drainStart = Date.now();
  const drainDeadline = drainStart + DRAIN_TIMEOUT_MS;
  httpSender.retryUntilMs = lpSender.retryUntilMs = drainDeadline;
  while (
    (httpSender.pending || lpSender.pending || publisher.inFlight || queries.inFlight) &&
    Date.now() < drainDeadline
  )
    await sleep(50);
  const drained = await waitForBacklog(client, ledger.acknowledgedRows.mqtt, drainDeadline);
  const drainSeconds = (Date.now() - drainStart) / 1000;
  sampling.stop = true;
  await sampler;
  clientLoop.disable();

  const final = await scrape(client);
  const checks = await checkSeries(client, ledger, Math.min(lpOrigin, nowMs) - DAY_MS, Date.now() + 2 * DAY_MS);
  const catalogMismatches = await checkCatalog(client, ledger);
  await publisherClient.endAsync();
  for (const c of live) c.ws.close();

  return {
    options,
    ledger,
    latencies,
    samples,
    loadSeconds,
    drainSeconds,
    drained,
    requests: { http: options.httpRate ? httpSender : null, lp: options.lpRate ? lpSender : null },
    mqttFailures: publisher.failures,
    mqttStored: metricSum(final, 'devices_mqtt_messages_total', 'outcome="stored"'),
    queries,
    live: live.map((c, i) => ({
      client: i,
      subscription: c.expects === null ? '*' : [...c.expects].join(',') || `room ${ROOM}`,
      expected: expectedPushes(ledger, c.expects),
      received: c.received,
      roomMetrics: c.roomMetrics,
      closed: c.closed ? `${c.closed.code} ${c.closed.reason}` : null,
    })),
    wsCut: metricSum(final, 'ws_clients_cut_total'),
    compactions: metricSum(final, 'compaction_runs_total') - (compactionsAtStart ?? 0),
    checks,
    catalogMismatches,
  };
}

async function takeSample(
  server: ServerProcess,
  client: HttpClient,
  startMs: number,
  phase: Sample['phase'],
  ledger: Ledger,
  latencies: Record<LatencyKind, Latencies>,
  clientLoop: ReturnType<typeof monitorEventLoopDelay>,
): Promise<Sample> {
  const scrapeStart = performance.now();
  const m = await scrape(client);
  const scrapeMs = performance.now() - scrapeStart;
  const rss = readMemory(server.pid).rssBytes;
  const sample: Sample = {
    t: Math.round((Date.now() - startMs) / 1000),
    phase,
    rssMb: round(rss / MB),
    heapUsedMb: round(metricSum(m, 'nodejs_heap_size_used_bytes') / MB),
    eventLoopMaxMs: round(metricSum(m, 'nodejs_eventloop_lag_max_seconds') * 1000),
    eventLoopP99Ms: round(metricSum(m, 'nodejs_eventloop_lag_p99_seconds') * 1000),
    clientEventLoopMaxMs: round(clientLoop.max / 1e6),
    scrapeMs: round(scrapeMs),
    persistQueueRows: metricSum(m, 'persist_queue_rows'),
    busQueueDepth: metricSum(m, 'bus_queue_depth', 'topic="readings"'),
    busQueueFillRatio: metricMax(m, 'bus_queue_fill_ratio'),
    wsClients: metricSum(m, 'ws_clients'),
    compactions: metricSum(m, 'compaction_runs_total'),
    persistedRows: metricSum(m, 'persist_rows_total'),
    acknowledged: { ...ledger.acknowledgedRows },
    p99Ms: Object.fromEntries(
      LATENCY_KINDS.map((k) => {
        const p = latencies[k].takeSecondP99();
        return [k, p === null ? null : round(p)];
      }),
    ) as Record<LatencyKind, number | null>,
  };
  clientLoop.reset();
  return sample;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** The largest of many numbers (0 for none): `Math.max(...a)` overflows the stack past ~100k arguments. */
const maxOf = (values: readonly number[]) => values.reduce((max, v) => Math.max(max, v), 0);

async function query(
  client: HttpClient,
  pathAndQuery: string,
  queries: { sent: number; failed: Record<string, number>; inFlight: number },
  latencies: Latencies,
) {
  queries.sent++;
  queries.inFlight++;
  const started = performance.now();
  try {
    const res = await client.get(pathAndQuery);
    latencies.add(performance.now() - started);
    if (res.status !== 200) queries.failed[res.status] = (queries.failed[res.status] ?? 0) + 1;
  } catch (err) {
    const what = `network: ${(err as Error).message.slice(-80)}`;
    queries.failed[what] = (queries.failed[what] ?? 0) + 1;
  } finally {
    queries.inFlight--;
  }
}

async function waitForMqttSubscription(client: HttpClient) {
  const deadline = Date.now() + 60_000;
  while (metricSum(await scrape(client), 'devices_mqtt_subscribed') !== 1) {
    if (Date.now() > deadline) throw new Error('the server did not subscribe to the broker within 60 s');
    await sleep(50);
  }
}

/** A room with sensors on the first HTTP series, so the jobs role has room metrics to compute. */
async function createRoom(client: HttpClient, key: string, series: readonly string[]) {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const post = async (p: string, body: unknown) => {
    const res = await client.post(p, Buffer.from(JSON.stringify(body)), headers);
    if (res.status !== 201) throw new Error(`POST ${p} answered ${res.status}: ${res.text.slice(0, 300)}`);
  };
  await post('/api/v1/rooms', { name: ROOM });
  for (const [i, s] of series.entries())
    await post('/api/v1/sensors', {
      sensor_id: `soak_sensor_${i}`,
      name: `Soak sensor ${i}`,
      sensor_type: 'power',
      room: ROOM,
      series: s,
    });
}

/** Client 0 takes everything, client 1 the room, the others one HTTP and one MQTT series each. */
function openLiveClients(
  options: Options,
  server: ServerProcess,
  httpKeys: readonly string[],
  mqttKeys: readonly string[],
  ownSeries: Set<string>,
  backfill: Set<string>,
  latencies: Latencies,
): Promise<LiveClient[]> {
  return Promise.all(
    Array.from({ length: options.wsClients }, (_, i) => {
      const subscription =
        i === 0
          ? { series: ['*'] }
          : i === 1
            ? { rooms: [ROOM] }
            : { series: [httpKeys[i % httpKeys.length], mqttKeys[i % mqttKeys.length]] };
      return openLiveClient(server, subscription, ownSeries, latencies, backfill);
    }),
  );
}

/** Readings a live client should have had: the acknowledged readings of the series it follows (a room: none counted). */
function expectedPushes(ledger: Ledger, expects: Set<string> | null) {
  return ledger.series
    .filter((s) => (expects === null ? true : expects.has(s.key)))
    .reduce((sum, s) => sum + s.acknowledged, 0);
}

/**
 * Waits until the server holds what it acknowledged: its queues are empty, every message the broker
 * took is stored, and committed rows have not moved for DRAIN_QUIET_MS. False at the deadline.
 */
async function waitForBacklog(client: HttpClient, mqttAcknowledged: number, deadline: number): Promise<boolean> {
  let lastRows = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    const m = await scrape(client);
    const rows = metricSum(m, 'persist_rows_total');
    if (rows !== lastRows) {
      lastRows = rows;
      lastChange = Date.now();
    }
    const empty =
      metricSum(m, 'persist_queue_rows') === 0 &&
      metricSum(m, 'bus_queue_depth') === 0 &&
      metricMax(m, 'bus_queue_fill_ratio', 'topic="readings"') === 0;
    const mqttStored = metricSum(m, 'devices_mqtt_messages_total', 'outcome="stored"') >= mqttAcknowledged;
    if (empty && mqttStored && Date.now() - lastChange >= DRAIN_QUIET_MS) return true;
    await sleep(100);
  }
  return false;
}

/** Each series' stored count and sum: daily buckets over a range covering all of it, summed. */
async function checkSeries(client: HttpClient, ledger: Ledger, startMs: number, endMs: number) {
  const checks: SeriesCheck[] = [];
  for (let from = 0; from < ledger.series.length; from += SERIES_PER_CHECK) {
    const batch = ledger.series.slice(from, from + SERIES_PER_CHECK);
    const keys = batch.map((s) => s.key).join(',');
    const totals = async (agg: 'count' | 'sum') => {
      const p = `/api/v1/query?series=${keys}&start=${startMs}&end=${endMs}&window=1d&agg=${agg}`;
      const res = await client.get(p);
      if (res.status !== 200) throw new Error(`GET ${p} answered ${res.status}: ${res.text.slice(0, 300)}`);
      const body = JSON.parse(res.text) as { results: { series: string; points: { value: number | null }[] }[] };
      return new Map(body.results.map((r) => [r.series, r.points.reduce((sum, p) => sum + (p.value ?? 0), 0)]));
    };
    const counts = await totals('count');
    const sums = await totals('sum');
    for (const s of batch)
      checks.push({
        key: s.key,
        channel: s.channel,
        acknowledged: s.acknowledged,
        acknowledgedSum: s.acknowledgedSum,
        unacknowledged: s.unacknowledged,
        storedCount: counts.get(s.key) ?? 0,
        storedSum: sums.get(s.key) ?? 0,
      });
  }
  return checks;
}

/** Series whose catalog count differs from what was acknowledged (reported, not judged: the query decides). */
async function checkCatalog(client: HttpClient, ledger: Ledger): Promise<string[]> {
  const counts = new Map<string, number>();
  for (const prefix of ['soak/', 'soak_lp/']) {
    for (let cursor: string | null = ''; cursor !== null; ) {
      const res = await client.get(
        `/api/v1/series?prefix=${prefix}&limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (res.status !== 200) return [`catalog answered ${res.status}`];
      const page = JSON.parse(res.text) as { series: { key: string; count: number }[]; next: string | null };
      for (const e of page.series) counts.set(e.key, e.count);
      cursor = page.next;
    }
  }
  return ledger.series
    .filter((s) => !s.unacknowledged && counts.get(s.key) !== s.acknowledged)
    .map((s) => `${s.key}: catalog ${counts.get(s.key)}, acknowledged ${s.acknowledged}`);
}

/** Removes the run's persistent session from the broker. */
async function forgetSession(mqttUrl: string, clientId: string) {
  const c = await mqtt.connectAsync(mqttUrl, {
    clientId,
    clean: true,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 0 },
  });
  await c.endAsync();
}

// ------------------------------------------------------------------------------------------ verdict

interface Verdict {
  pass: boolean;
  failures: string[];
  memory: { q2MedianMb: number; q3MedianMb: number; q4MedianMb: number; limitMb: number; growing: boolean };
  maxEventLoopDelayMs: number;
  missingReadings: number;
  sumMismatches: string[];
  missingSeries: string[];
}

/** Medians of the load's RSS samples by quarter of the load (index 0..3). */
function rssQuarterMedians(run: Run): number[] {
  const load = run.samples.filter((s) => s.phase === 'load');
  const quarter = (q: number) =>
    load.filter((s) => s.t > (q * run.loadSeconds) / 4 && s.t <= ((q + 1) * run.loadSeconds) / 4).map((s) => s.rssMb);
  return [0, 1, 2, 3].map((q) => {
    const values = quarter(q);
    return values.length ? median(values) : Number.NaN;
  });
}

function judge(run: Run): Verdict {
  const failures: string[] = [];
  const [, q2, q3, q4] = rssQuarterMedians(run);
  const limitMb = Math.max(GROWTH_LIMIT_BYTES / MB, q2 * GROWTH_LIMIT_RATIO);
  const growing = q4 - q2 > limitMb && q4 > q3;
  if (growing)
    failures.push(
      `memory grows: RSS median ${round(q2)} MB in the second quarter, ${round(q3)} in the third, ${round(q4)} in the last (limit +${round(limitMb)} MB)`,
    );
  const maxEventLoopDelayMs = maxOf(run.samples.map((s) => s.eventLoopMaxMs));
  if (maxEventLoopDelayMs > STALL_LIMIT_S * 1000)
    failures.push(`event loop stalled ${Math.round(maxEventLoopDelayMs)} ms (limit ${STALL_LIMIT_S * 1000} ms)`);
  let missingReadings = 0;
  const sumMismatches: string[] = [];
  const missingSeries: string[] = [];
  for (const c of run.checks) {
    const missing = Math.max(0, c.acknowledged - c.storedCount);
    missingReadings += missing;
    if (missing) missingSeries.push(`${c.key}: stored ${c.storedCount} of ${c.acknowledged} acknowledged`);
    // a series with unacknowledged readings may hold some of them: only its count is judged (≥)
    if (!c.unacknowledged && !missing && c.storedSum !== c.acknowledgedSum)
      sumMismatches.push(`${c.key}: stored sum ${c.storedSum}, acknowledged ${c.acknowledgedSum}`);
  }
  if (missingReadings)
    failures.push(`${missingReadings} acknowledged readings missing in ${missingSeries.length} series`);
  if (sumMismatches.length) failures.push(`${sumMismatches.length} series whose sum differs`);
  return {
    pass: failures.length === 0,
    failures,
    memory: { q2MedianMb: q2, q3MedianMb: q3, q4MedianMb: q4, limitMb: round(limitMb), growing },
    maxEventLoopDelayMs,
    missingReadings,
    sumMismatches,
    missingSeries,
  };
}

// ------------------------------------------------------------------------------------------ summary

function summarize(run: Run) {
  return {
    loadSeconds: run.loadSeconds,
    drainSeconds: run.drainSeconds,
    drained: run.drained,
    offeredRows: run.ledger.offeredRows,
    acknowledgedRows: run.ledger.acknowledgedRows,
    unacknowledgedRows: run.ledger.series.reduce((sum, s) => sum + s.unacknowledged, 0),
    httpFailures: run.requests.http?.failures ?? {},
    lpFailures: run.requests.lp?.failures ?? {},
    mqttFailures: run.mqttFailures,
    mqttStoredMessages: run.mqttStored,
    queries: { sent: run.queries.sent, failed: run.queries.failed },
    latencies: Object.fromEntries(LATENCY_KINDS.map((k) => [k, run.latencies[k].summary()])),
    live: run.live,
    wsCut: run.wsCut,
    compactions: run.compactions,
    catalogMismatches: run.catalogMismatches,
  };
}

function printSummary(run: Run, verdict: Verdict) {
  const { ledger, loadSeconds } = run;
  const perS = (rows: number) => `${Math.round(rows / loadSeconds).toLocaleString('en-US')}/s`;
  const latency = (k: LatencyKind) => {
    const s = run.latencies[k].summary();
    return s.count ? `p50 ${formatMs(s.p50Ms!)}, p99 ${formatMs(s.p99Ms!)}, max ${formatMs(s.maxMs!)}` : '-';
  };
  const failures = (f: Record<string, number>) =>
    Object.entries(f)
      .map(([what, n]) => `${n}× ${what}`)
      .join(', ') || 'none';
  const load = run.samples.filter((s) => s.phase === 'load');
  const at = (fraction: number) =>
    load.length ? load[Math.min(load.length - 1, Math.round(fraction * (load.length - 1)))].rssMb : Number.NaN;
  const max = (pick: (s: Sample) => number) => maxOf(run.samples.map(pick));
  const live = run.live.filter((c) => c.subscription !== `room ${ROOM}`);
  const pushed = live.reduce((sum, c) => sum + c.received, 0);
  const expected = live.reduce((sum, c) => sum + c.expected, 0);
  const { q2MedianMb: q2, q3MedianMb: q3, q4MedianMb: q4 } = verdict.memory;
  const unacknowledged = ledger.series.reduce((sum, s) => sum + s.unacknowledged, 0);
  const rows: string[][] = [
    [
      'duration',
      `${round(loadSeconds)} s of load, ${round(run.drainSeconds)} s to drain${run.drained ? '' : ' (NOT drained)'}`,
      '',
    ],
    ['stack', describeStack(run.options.stack), ''],
    ...(['http', 'lp', 'mqtt'] as const).map((ch) => [
      `${{ http: 'HTTP NDJSON', lp: 'line protocol', mqtt: 'MQTT json (QoS 1)' }[ch]}: offered → acknowledged`,
      `${perS(ledger.offeredRows[ch])} → ${perS(ledger.acknowledgedRows[ch])} (${ledger.acknowledgedRows[ch].toLocaleString('en-US')} rows)`,
      '',
    ]),
    [
      'refused HTTP / LP requests (retried)',
      `${failures(run.requests.http?.failures ?? {})} / ${failures(run.requests.lp?.failures ?? {})}`,
      '',
    ],
    ['readings never acknowledged', unacknowledged.toLocaleString('en-US'), '0'],
    ...LATENCY_KINDS.map((k) => [LATENCY_LABEL[k], latency(k), '']),
    ['queries (failed)', `${run.queries.sent} (${failures(run.queries.failed)})`, ''],
    [
      `WebSocket: ${run.live.length} clients, readings pushed / expected`,
      `${pushed.toLocaleString('en-US')} / ${expected.toLocaleString('en-US')}; room metrics ${run.live.reduce((s, c) => s + c.roomMetrics, 0)}; cut ${run.wsCut}; closed early ${run.live.filter((c) => c.closed).length}`,
      '',
    ],
    // DuckDB only; at the default rates the backfill finishes its first day after about 72 s of load
    ['compactions during the soak (DuckDB)', String(run.compactions), ''],
    ['RSS start → ¼ → ½ → ¾ → end of load', [0, 0.25, 0.5, 0.75, 1].map(at).join(' → ') + ' MB', ''],
    [
      'RSS medians, quarters 2 / 3 / 4',
      `${round(q2)} / ${round(q3)} / ${round(q4)} MB`,
      `q4 − q2 ≤ ${verdict.memory.limitMb} MB or q4 ≤ q3`,
    ],
    ['JS heap used start → end', `${load[0]?.heapUsedMb ?? '?'} → ${load.at(-1)?.heapUsedMb ?? '?'} MB`, ''],
    ['max event-loop delay (server)', formatMs(verdict.maxEventLoopDelayMs), `≤ ${STALL_LIMIT_S * 1000} ms`],
    ['max event-loop delay (this load generator)', formatMs(max((s) => s.clientEventLoopMaxMs)), ''],
    [
      'max persist queue / bus queue depth / fill',
      `${max((s) => s.persistQueueRows)} rows / ${max((s) => s.busQueueDepth)} rows / ${max((s) => s.busQueueFillRatio)}`,
      '',
    ],
    ['series checked', String(run.checks.length), ''],
    ['acknowledged readings missing', verdict.missingReadings.toLocaleString('en-US'), '0'],
    ['series whose sum differs', String(verdict.sumMismatches.length), '0'],
    ['catalog counts differing (not judged)', String(run.catalogMismatches.length), '0'],
  ];
  console.log();
  printTable(['soak', 'result', 'pass if'], rows);
  for (const line of [...verdict.missingSeries, ...verdict.sumMismatches, ...run.catalogMismatches].slice(0, 10))
    console.log(`  ${line}`);
}

await main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
