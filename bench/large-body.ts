/**
 * Large-body benchmark: how much one 200 MB NDJSON body sent to `POST /ingest` adds to the
 * server's memory, which must stay under GROWTH_CEILING_MB (the body is streamed through the
 * parser, never held). The body is mostly lines that are parsed and rejected, keeping the store's
 * own memory out of the picture, with one good reading in every 1,000 lines; the client streams it
 * in 1 MB chunks and honours backpressure. (test/large-body.test.ts checks the same body's answer
 * and that its readings are stored before it has ended; the memory figure lives here because it
 * depends on the machine.)
 *
 * The server runs in a process of its own (bench/lib/server.ts), fresh for the run; while the
 * request runs its VmRSS (`/proc/<pid>/status`) is read every 10 ms and its kernel high-water mark
 * (VmHWM, reset right before) catches a peak between two reads. The growth is the peak less the
 * RSS right before the request. Over the ceiling the benchmark fails (exit code 1). Linux only.
 * With a server stack (`--store postgres`, `--bus nats`) the embedded stack runs first, then that one.
 */
import http from 'node:http';
import path from 'node:path';
import { withServerProcess, withStackDataDir } from './lib/bench-server.js';
import { type MemoryWatch, watchMemory } from './lib/process-memory.js';
import { describeMachine, printTable, writeResults } from './lib/report.js';
import type { ServerProcess } from './lib/server-process.js';
import { checkServices, describeStack, EMBEDDED, isEmbedded, type Stack } from './lib/server-stack.js';

const MB = 2 ** 20;
const BODY_BYTES = 200 * MB;
const CHUNK_BYTES = MB;
/** One line in this many is a good reading; the rest are rejected (`value` is not a number). */
const GOOD_EVERY = 1000;
const BAD_LINE = '{"series":"big","value":"not a number","ts":0}\n';
/** How often the server's RSS is read while the body streams. */
const SAMPLE_MS = 10;
/** How long a started server is left alone before its memory is taken as the baseline. */
const SETTLE_MS = 1_000;
/**
 * The most one 200 MB body may add to the server's resident memory. Holding it would take 200 MB
 * as bytes and twice that again as text; streaming it takes the parser's chunks in flight (a few
 * MB per request) plus garbage V8 has not collected yet.
 */
const GROWTH_CEILING_MB = 150;

interface LargeBodyRun {
  stack: Stack;
  seconds: number;
  bytes: number;
  lines: number;
  good: number;
  baselineBytes: number;
  peakBytes: number;
  peakHwmBytes: number | null;
  samples: number;
  growthBytes: number;
  underCeiling: boolean;
}

export async function run(options: { stack?: Stack } = {}): Promise<void> {
  if (process.platform !== 'linux') {
    console.log("the large-body benchmark reads the server's memory from /proc: Linux only, skipped");
    return;
  }
  const startedAt = new Date();
  const serverStack = options.stack && !isEmbedded(options.stack) ? options.stack : undefined;
  if (serverStack) await checkServices(serverStack);
  const runs: LargeBodyRun[] = [];
  for (const stack of serverStack ? [EMBEDDED, serverStack] : [EMBEDDED]) {
    runs.push(
      await withStackDataDir(stack, (dataDir, env) =>
        withServerProcess({ dataDir, env: { ...env, WATTLINE_DUMPS_DAILY: 'false' } }, async (server) => {
          // let the start's own work (loading the catalog, first timers) finish before the baseline
          await new Promise((r) => setTimeout(r, SETTLE_MS));
          return { stack, ...(await sendWatched(server)) };
        }),
      ),
    );
  }

  const workload = `${BODY_BYTES / MB} MB NDJSON body, 1 line in ${GOOD_EVERY.toLocaleString('en-US')} good, 1 client`;
  console.log(`\n${workload}; server RSS growth ceiling ${GROWTH_CEILING_MB} MB`);
  printTable(
    ['stack', 'time', 'MB/s', 'RSS before', 'RSS peak', 'growth', `≤ ${GROWTH_CEILING_MB} MB`],
    runs.map((r) => [
      describeStack(r.stack),
      `${r.seconds.toFixed(2)} s`,
      (r.bytes / MB / r.seconds).toFixed(0),
      mb(r.baselineBytes),
      mb(r.peakBytes),
      mb(r.growthBytes),
      r.underCeiling ? 'yes' : 'NO',
    ]),
  );

  const file = writeResults('large-body', startedAt, {
    benchmark: 'large-body',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    workload: {
      description: workload,
      bodyBytes: BODY_BYTES,
      chunkBytes: CHUNK_BYTES,
      goodEvery: GOOD_EVERY,
      sampleMs: SAMPLE_MS,
      settleMs: SETTLE_MS,
      growthCeilingMb: GROWTH_CEILING_MB,
    },
    rows: runs.map((r) => ({ ...r, stack: describeStack(r.stack), value: r.growthBytes / MB, unit: 'MB' })),
  });
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);

  const over = runs.filter((r) => !r.underCeiling);
  if (over.length) {
    console.error(
      `\nFAILED: a ${BODY_BYTES / MB} MB body grew the server's memory past the ${GROWTH_CEILING_MB} MB ceiling: ${over
        .map((r) => `${describeStack(r.stack)} (+${mb(r.growthBytes)})`)
        .join('; ')}`,
    );
    process.exitCode = 1;
  }
}

/** Streams the body to the server while sampling its RSS; checks the answer counts every line. */
async function sendWatched(server: ServerProcess): Promise<Omit<LargeBodyRun, 'stack'>> {
  const memory = watchMemory(server.pid, SAMPLE_MS);
  const started = performance.now();
  let sent: Awaited<ReturnType<typeof streamBody>>;
  let measured: ReturnType<MemoryWatch['stop']>;
  try {
    sent = await streamBody(server);
  } finally {
    measured = memory.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const { baselineBytes, peakBytes, peakHwmBytes, samples } = measured;
  const { status, reply, lines, good, bytes } = sent;
  if (status !== 400 || reply.accepted !== good || reply.invalidCount !== lines - good)
    throw new Error(
      `POST /ingest answered ${status} accepted ${reply.accepted}, invalid ${reply.invalidCount}; expected 400, ${good} and ${lines - good}`,
    );
  const growthBytes = peakBytes - baselineBytes;
  return {
    seconds,
    bytes,
    lines,
    good,
    baselineBytes,
    peakBytes,
    peakHwmBytes,
    samples,
    growthBytes,
    underCeiling: growthBytes <= GROWTH_CEILING_MB * MB,
  };
}

function streamBody(server: ServerProcess) {
  let lines = 0;
  let good = 0;
  let bytes = 0;
  return new Promise<{
    status: number;
    reply: { accepted: number; invalidCount: number };
    lines: number;
    good: number;
    bytes: number;
  }>((resolve, reject) => {
    const req = http.request(
      `${server.url}/ingest`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/x-ndjson' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, reply: JSON.parse(text), lines, good, bytes });
          } catch (err) {
            reject(new Error(`POST /ingest answered ${res.statusCode} with ${text.slice(0, 500)}`, { cause: err }));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const write = () => {
      while (bytes < BODY_BYTES) {
        let chunk = '';
        while (chunk.length < CHUNK_BYTES) {
          lines++;
          chunk += lines % GOOD_EVERY === 0 ? `{"series":"big","value":${++good},"ts":${good}}\n` : BAD_LINE;
        }
        bytes += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(0)} MB`;
}
