/**
 * What gRPC `Subscribe` clients that never read cost the server (issue #11, point 6), on the
 * embedded stack, each workload on a fresh server process (bench/lib/server.ts):
 *
 * 5 `wattline.v1.ReadingsService/Subscribe` streams for 4 series, each on its own HTTP/2 connection,
 * send their request and never read again (a raw `node:http2` stream, paused: a paused grpc-js call
 * would not do, grpc-js reads the socket on into its own buffer); then N readings of those series
 * are ingested over HTTP (`/ingest`, NDJSON bodies of 50,000 lines, one after the other). Reported:
 * the server's RSS before, at its peak and once ingested (the idle clients still connected); the
 * ingest rate; and how the idle streams ended: once ingested they read again, and a stream whose
 * trailers say RESOURCE_EXHAUSTED (8) was cut by the server (the status follows what was queued, so
 * a client that never reads never sees it), one that goes quiet without trailers is still open.
 * Each workload runs again with one normal grpc-js subscriber that reads: with the bodies sent as fast
 * as the server takes them (a reader slower than that falls behind like any other and is cut), and
 * paced, each body sent once the reader has the one before, to show it keeps receiving. A first run
 * without subscribers gives the RSS of the ingest alone.
 *
 * Run with the bound at its default (`grpc.subscribeMaxQueuedBytes`, 16 MiB) and at the largest value
 * the setting allows (1 GiB: in effect no bound, the behaviour before it). `SUBSCRIBE_BENCH_READINGS`
 * (default 2,000,000) scales the bounded runs; without a bound the server holds every reading for
 * every idle client, so those runs ingest `SUBSCRIBE_BENCH_UNBOUNDED_READINGS` (default 800,000, under
 * 3 GB of RSS on this machine). Linux only (RSS from /proc).
 */
import http2 from 'node:http2';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { settings as grpcSettings } from '../src/modules/readings-grpc/settings.js';
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import { readMemory, watchMemory } from './lib/process-memory.js';
import { describeMachine, formatRowsPerSecond, printTable, writeResults } from './lib/report.js';
import { EMBEDDED } from './lib/server-stack.js';

const MB = 2 ** 20;
const READINGS = Number(process.env.SUBSCRIBE_BENCH_READINGS ?? 2_000_000);
const UNBOUNDED_READINGS = Math.min(READINGS, Number(process.env.SUBSCRIBE_BENCH_UNBOUNDED_READINGS ?? 800_000));
const IDLE_SUBSCRIBERS = 5;
const SERIES = Array.from({ length: 4 }, (_, i) => `bench/subscribe/${i}`);
const LINES_PER_BODY = 50_000;
const T0 = Date.UTC(2024, 0, 1);
/** A stream that received nothing for this long is drained (or stalled): done waiting for it. */
const QUIET_MS = 3_000;
const DEFAULT_BOUND = grpcSettings.parse({}).grpc.subscribeMaxQueuedBytes;
/** The largest `grpc.subscribeMaxQueuedBytes` allows (src/modules/readings-grpc/settings.ts). */
const MAX_BOUND = 1024 ** 3;
const RESOURCE_EXHAUSTED = String(grpc.status.RESOURCE_EXHAUSTED);

const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'proto');
const SUBSCRIBE = (
  protoLoader.loadSync('wattline/v1/readings.proto', {
    keepCase: true,
    longs: Number,
    defaults: true,
    includeDirs: [protoRoot],
  })['wattline.v1.ReadingsService'] as protoLoader.ServiceDefinition
).Subscribe;

interface Run {
  workload: string;
  boundBytes: number;
  readings: number;
  ingestSeconds: number;
  readingsPerS: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  ingestedRssBytes: number | null;
  drainedRssBytes: number | null;
  idle: {
    /** trailers with grpc-status 8 once the stream read again */
    cut: number;
    /** ended by the server otherwise (other status, reset) */
    otherwiseClosed: number;
    /** still open once it had read everything the server queued */
    open: number;
    /** bytes each idle stream received once it read again */
    drainedBytes: number[];
    message: string | null;
  };
  reader: { received: number; status: string } | null;
  serverDied: boolean;
}

export async function run(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log("the subscribe benchmark reads the server's memory from /proc: Linux only, skipped");
    return;
  }
  const startedAt = new Date();
  const runs: Run[] = [];
  runs.push(await workload(DEFAULT_BOUND, READINGS, 0, 'none'));
  for (const [bound, readings] of [
    [DEFAULT_BOUND, READINGS],
    [MAX_BOUND, UNBOUNDED_READINGS],
  ])
    for (const reader of ['none', 'unpaced', 'paced'] as const)
      runs.push(await workload(bound, readings, IDLE_SUBSCRIBERS, reader));
  printTable(
    [
      'workload',
      'readings',
      'ingest',
      'RSS before',
      'RSS peak',
      'RSS ingested',
      'RSS drained',
      'idle cut / closed / open',
      'idle drained MB',
      'reader received',
      'server',
    ],
    runs.map((r) => [
      r.workload,
      r.readings.toLocaleString('en-US'),
      r.serverDied ? '-' : formatRowsPerSecond(r.readingsPerS),
      `${(r.baselineRssBytes / MB).toFixed(0)} MB`,
      `${(r.peakRssBytes / MB).toFixed(0)} MB`,
      r.ingestedRssBytes === null ? '-' : `${(r.ingestedRssBytes / MB).toFixed(0)} MB`,
      r.drainedRssBytes === null ? '-' : `${(r.drainedRssBytes / MB).toFixed(0)} MB`,
      `${r.idle.cut} / ${r.idle.otherwiseClosed} / ${r.idle.open}`,
      r.idle.drainedBytes.map((b) => (b / MB).toFixed(0)).join(' '),
      r.reader ? `${r.reader.received.toLocaleString('en-US')} (${r.reader.status})` : '-',
      r.serverDied ? 'DIED' : 'alive',
    ]),
  );
  const message = runs.find((r) => r.idle.message)?.idle.message;
  if (message) console.log(`idle subscribers were told: ${message}`);
  const file = writeResults('subscribe', startedAt, {
    machine: describeMachine(),
    idleSubscribers: IDLE_SUBSCRIBERS,
    series: SERIES,
    runs,
  });
  console.log(`results: ${file}`);
}

async function workload(
  bound: number,
  readings: number,
  idleCount: number,
  readerKind: 'none' | 'unpaced' | 'paced',
): Promise<Run> {
  const withReader = readerKind !== 'none';
  const workload =
    `${idleCount} idle${withReader ? ` + 1 reader${readerKind === 'paced' ? ', paced' : ''}` : ''}, ` +
    `bound ${bound / MB} MiB${bound === DEFAULT_BOUND ? ' (default)' : bound === MAX_BOUND ? ' (max: off)' : ''}`;
  console.log(`${workload}: ${readings.toLocaleString('en-US')} readings`);
  const bodies = buildBodies(readings);
  const result: Run = {
    workload,
    boundBytes: bound,
    readings,
    ingestSeconds: 0,
    readingsPerS: 0,
    baselineRssBytes: 0,
    peakRssBytes: 0,
    ingestedRssBytes: null,
    drainedRssBytes: null,
    idle: { cut: 0, otherwiseClosed: 0, open: 0, drainedBytes: [], message: null },
    reader: null,
    serverDied: false,
  };
  return withStackDataDir(EMBEDDED, (dataDir, env) =>
    withServerProcess(
      { dataDir, env: { ...env, WATTLINE_GRPC_SUBSCRIBE_MAX_QUEUED_BYTES: String(bound) } },
      async (server, client) => {
        if (!server.grpcUrl) throw new Error('the server process printed no gRPC address');
        const idle = Array.from({ length: idleCount }, () => openIdleSubscriber(server.grpcUrl!));
        const reader = withReader ? openReader(server.grpcUrl) : undefined;
        try {
          await Promise.all([...idle.map((s) => s.subscribed), reader?.subscribed]);
          const watch = watchMemory(server.pid, 50);
          const started = performance.now();
          try {
            let sent = 0;
            for (const body of bodies) {
              if (reader && readerKind === 'paced')
                await waitQuiet(
                  () => reader.received,
                  () => reader.received >= sent || reader.status !== 'open',
                );
              const res = await client.post('/ingest', body.bytes, {
                authorization: `Bearer ${server.key}`,
                'content-type': 'application/x-ndjson',
              });
              if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${res.text.slice(0, 300)}`);
              sent += body.lines;
            }
          } catch (err) {
            console.error(`${workload}: ${(err as Error).message}`);
            result.serverDied = true;
          }
          result.ingestSeconds = (performance.now() - started) / 1000;
          result.readingsPerS = readings / result.ingestSeconds;
          if (reader) {
            // the reader gets everything, or goes quiet (cut, or the server died)
            await waitQuiet(
              () => reader.received,
              () => reader.received >= readings || reader.status !== 'open',
            );
            result.reader = { received: reader.received, status: reader.status };
          }
          try {
            const memory = watch.stop();
            result.baselineRssBytes = memory.baselineBytes;
            result.peakRssBytes = memory.peakBytes;
            result.ingestedRssBytes = readMemory(server.pid).rssBytes;
          } catch {
            result.serverDied = true;
          }
          // the idle clients read again: what the server queued for them, then how their stream ended
          for (const s of idle) s.stream.resume();
          await Promise.all(
            idle.map((s) =>
              waitQuiet(
                () => s.bytes,
                () => s.closed,
              ),
            ),
          );
          for (const s of idle) {
            result.idle.drainedBytes.push(s.bytes);
            if (s.trailers?.['grpc-status'] === RESOURCE_EXHAUSTED) {
              result.idle.cut++;
              result.idle.message ??= decodeURIComponent(String(s.trailers['grpc-message']));
            } else if (s.closed) result.idle.otherwiseClosed++;
            else result.idle.open++;
          }
          try {
            result.drainedRssBytes = readMemory(server.pid).rssBytes;
          } catch {
            result.serverDied = true;
          }
          return result;
        } finally {
          for (const s of idle) s.session.destroy();
          reader?.close();
        }
      },
    ),
  ).catch((err: Error) => {
    // a server killed by its heap cannot be closed cleanly: that is the finding, not a bench failure
    console.error(`${workload}: ${err.message}`);
    return { ...result, serverDied: true };
  });
}

/** `readings` readings spread over SERIES in turn, one second apart in each, as NDJSON bodies. */
function buildBodies(readings: number): { bytes: Buffer; lines: number }[] {
  const bodies: { bytes: Buffer; lines: number }[] = [];
  for (let from = 0; from < readings; from += LINES_PER_BODY) {
    const lines: string[] = [];
    for (let i = from; i < Math.min(readings, from + LINES_PER_BODY); i++)
      lines.push(
        `{"series":"${SERIES[i % SERIES.length]}","value":${(i % 5000) / 10},"ts":${T0 + Math.floor(i / SERIES.length) * 1000}}`,
      );
    bodies.push({ bytes: Buffer.from(lines.join('\n') + '\n'), lines: lines.length });
  }
  return bodies;
}

/** A `Subscribe` call on its own HTTP/2 connection that sends its request and then stops reading. */
function openIdleSubscriber(grpcUrl: string) {
  const session = http2.connect(`http://${grpcUrl}`);
  session.on('error', () => undefined); // a server that dies resets it: counted as closed
  const stream = session.request({
    ':method': 'POST',
    ':path': SUBSCRIBE.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const body = SUBSCRIBE.requestSerialize({ series: SERIES });
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  stream.end(frame);
  stream.pause();
  const state = {
    session,
    stream,
    bytes: 0,
    closed: false,
    trailers: undefined as http2.IncomingHttpHeaders | undefined,
    // the subscription is in place once the server has sent its headers
    subscribed: new Promise<void>((resolve, reject) => {
      stream.once('response', () => resolve());
      stream.once('close', () => reject(new Error('an idle subscriber was closed before it was subscribed')));
    }),
  };
  stream.on('data', (chunk: Buffer) => (state.bytes += chunk.length));
  stream.on('trailers', (headers) => (state.trailers = headers));
  stream.on('error', () => undefined);
  stream.on('close', () => (state.closed = true));
  return state;
}

/** A grpc-js `Subscribe` call that reads everything, counting readings. */
function openReader(grpcUrl: string) {
  const client = new grpc.Client(grpcUrl, grpc.credentials.createInsecure());
  const call = client.makeServerStreamRequest(
    SUBSCRIBE.path,
    SUBSCRIBE.requestSerialize,
    SUBSCRIBE.responseDeserialize,
    { series: SERIES },
    new grpc.Metadata(),
  );
  const state = {
    received: 0,
    status: 'open',
    subscribed: new Promise<void>((resolve) => call.once('metadata', () => resolve())),
    close: () => {
      call.cancel();
      client.close();
    },
  };
  call.on('data', () => state.received++);
  call.on('error', () => undefined); // its status is what counts
  call.on('status', (s: grpc.StatusObject) => {
    if (state.status === 'open') state.status = grpc.status[s.code];
  });
  return state;
}

/** Waits until `done`, or until `progress` has not moved for QUIET_MS. */
async function waitQuiet(progress: () => number, done: () => boolean): Promise<void> {
  let last = progress();
  let lastMoved = performance.now();
  while (!done() && performance.now() - lastMoved < QUIET_MS) {
    await new Promise((r) => setTimeout(r, 100));
    const now = progress();
    if (now !== last) {
      last = now;
      lastMoved = performance.now();
    }
  }
}
