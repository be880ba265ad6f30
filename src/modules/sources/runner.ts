import { DAY_MS } from '../../core/time/timestamps.js';
import type { Connections } from '../../core/connections.js';
import type { Bus } from '../../core/bus/index.js';
import type { Logger } from '../../core/log.js';
import { READINGS_TOPIC, ReadingBatchBuilder, type Reading } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import type { Connector } from './connector.js';
import type { Upstream } from './http.js';
import { finishedChunks, lastFinishedMs, markChunkDone, recordRun } from './repository.js';

const BATCH_ROWS = 10_000;

export interface RunnerDeps {
  connector: Connector;
  upstream: Upstream;
  store: Store;
  bus: Bus;
  log: Logger;
  /** Where the healing poll reports its upstream as `source:<name>` for `/ready`. */
  connections?: Connections;
}

/** Publishes readings on the bus in batches; resolves once they are durable. */
async function publish(bus: Bus, readings: Reading[]) {
  for (let i = 0; i < readings.length; i += BATCH_ROWS) {
    const builder = new ReadingBatchBuilder(Math.min(BATCH_ROWS, readings.length - i));
    for (const r of readings.slice(i, i + BATCH_ROWS)) builder.add(r);
    await bus.publish(READINGS_TOPIC, builder.take(false));
  }
}

/**
 * Fetches one piece of chunk `start` and stores it; a whole chunk in the past also gets its
 * checkpoint, written after its readings are durable. Returns the readings stored.
 */
async function fetchChunkPiece(deps: RunnerDeps, start: number, fromMs: number, toMs: number): Promise<number> {
  const { connector, upstream, store, bus } = deps;
  const readings = await connector.fetch({ fromMs, toMs }, upstream);
  await publish(bus, readings);
  // a chunk reaching into the future is never final: it is fetched again next time
  const complete = fromMs === start && toMs === start + connector.chunkMs && toMs <= Date.now();
  if (complete) await markChunkDone(store, connector.name, start, toMs, readings.length);
  return readings.length;
}

/**
 * Fetches [fromMs, toMs) chunk by chunk, oldest first, skipping chunks already checkpointed; each
 * chunk's readings are durable before its checkpoint is written, so a restart loses nothing and
 * refetches nothing finished. Chunks are aligned to the connector's chunk size, so a later
 * bootstrap over an overlapping range recognises them. Returns the readings stored.
 */
export async function bootstrap(
  deps: RunnerDeps,
  fromMs: number,
  toMs: number,
  signal?: AbortSignal,
): Promise<{ chunks: number; skipped: number; readings: number }> {
  const { connector, store, log } = deps;
  const done = await finishedChunks(store, connector.name);
  const first = Math.floor(fromMs / connector.chunkMs) * connector.chunkMs;
  let chunks = 0;
  let skipped = 0;
  let total = 0;
  for (let start = first; start < toMs && !signal?.aborted; start += connector.chunkMs) {
    if (done.has(start)) {
      skipped++;
      continue;
    }
    const readings = await fetchChunkPiece(deps, start, start, Math.min(start + connector.chunkMs, toMs));
    chunks++;
    total += readings;
    log.info({ source: connector.name, from: new Date(start).toISOString(), readings }, 'bootstrap chunk stored');
  }
  return { chunks, skipped, readings: total };
}

/**
 * Fetches [fromMs, toMs) newest chunk first (pieces of the same aligned chunks as `bootstrap`), so
 * after an outage the current readings are there first and the hole fills backwards.
 */
async function catchUp(deps: RunnerDeps, fromMs: number, toMs: number, signal: AbortSignal): Promise<number> {
  const { chunkMs } = deps.connector;
  let total = 0;
  for (let start = Math.floor((toMs - 1) / chunkMs) * chunkMs; start + chunkMs > fromMs; start -= chunkMs) {
    if (signal.aborted) break;
    total += await fetchChunkPiece(deps, start, Math.max(start, fromMs), Math.min(start + chunkMs, toMs));
  }
  return total;
}

/**
 * Keeps a connector's readings filled, whatever happened while it was not running (role `jobs`):
 *
 * 1. At start it fetches from where its stored data ends (the last reading of its series, or the
 *    end of its latest finished chunk, whichever is later; at least `lookbackMs` back, and not
 *    before the `bootstrapDays` window) to now, newest chunk first, so current data shows within
 *    seconds however long the outage was.
 * 2. Then it backfills the `bootstrapDays` window before that, oldest unfinished chunk first
 *    (finished chunks are checkpointed and skipped), so an interrupted bootstrap resumes by itself.
 * 3. Every `pollMs` it fetches again from the last good point: the end of the last poll that
 *    succeeded, or `lookbackMs` back if that is earlier. A failed poll is retried next time from
 *    the same point, and a failed backfill is started again at the next poll.
 *
 * An outage is logged once: a warning when polls start failing, an info line with how long it lasted
 * when one succeeds again; each failure in between is at debug level (each retry too, by the upstream).
 *
 * Each poll's outcome (and a failed backfill's) is recorded in `source_status` with when the timer
 * polls next, for `GET /api/v1/sources`.
 *
 * `lastReadingMs` says when the connector's series last have a reading (undefined: none yet).
 */
export function startHealing(
  deps: RunnerDeps,
  lastReadingMs: () => Promise<number | undefined>,
  signal: AbortSignal,
): Healing {
  const { connector, store, log } = deps;
  const outage = outageLog(log, connector.name, deps.connections);
  const startedMs = Date.now();
  /** The timer's next tick (every `pollMs` from start). */
  const nextRunMs = (nowMs: number) =>
    startedMs + (Math.floor((nowMs - startedMs) / connector.pollMs) + 1) * connector.pollMs;
  const record = (error?: unknown) => {
    const atMs = Date.now();
    const run = { atMs, nextRunMs: nextRunMs(atMs), error: error === undefined ? undefined : (error as Error).message };
    // the status is for people looking; failing to write it must not stop the fetching
    return recordRun(store, connector.name, run).catch((err) =>
      log.debug({ err, source: connector.name }, 'source status not recorded'),
    );
  };
  /** Where the stored data is known to be complete up to; undefined before the first poll found out. */
  let goodUntilMs: number | undefined;
  let backfillWindow: { fromMs: number; toMs: number } | undefined;
  let backfill: Promise<void> | undefined;
  let polling: Promise<void> | undefined;

  const startBackfill = () => {
    if (!backfillWindow || backfill || signal.aborted) return;
    const { fromMs, toMs } = backfillWindow;
    backfill = bootstrap(deps, fromMs, toMs, signal).then(
      (r) => {
        if (signal.aborted) return;
        backfillWindow = undefined;
        if (r.chunks > 0) log.info({ source: connector.name, ...r }, 'history filled');
      },
      (err) => {
        backfill = undefined; // started again at the next poll, finished chunks skipped
        if (signal.aborted) return;
        outage.failed(err, 'backfill failed; it resumes at the next poll');
        return record(err);
      },
    );
  };

  const poll = async () => {
    const nowMs = Date.now();
    try {
      if (goodUntilMs === undefined) {
        const [reading, finished] = await Promise.all([lastReadingMs(), lastFinishedMs(store, connector.name)]);
        const stored = Math.max(reading ?? -Infinity, finished ?? -Infinity);
        // what lies before the window kept filled is left to `wattline bootstrap`
        const windowFromMs = nowMs - connector.bootstrapDays * DAY_MS;
        goodUntilMs = Number.isFinite(stored) ? Math.max(stored, windowFromMs) : nowMs - connector.lookbackMs;
        const toMs = Math.min(goodUntilMs, nowMs - connector.lookbackMs);
        if (windowFromMs < toMs) backfillWindow = { fromMs: windowFromMs, toMs };
      }
      const fromMs = Math.min(goodUntilMs, nowMs - connector.lookbackMs);
      const readings = await catchUp(deps, fromMs, nowMs, signal);
      if (signal.aborted) return;
      goodUntilMs = nowMs;
      outage.succeeded();
      await record();
      log.debug({ source: connector.name, from: new Date(fromMs).toISOString(), readings }, 'poll stored');
    } catch (err) {
      if (signal.aborted) return;
      outage.failed(err, 'poll failed; the next poll fetches from the last good point');
      await record(err);
    }
  };

  const tick = () => {
    if (polling || signal.aborted) return;
    polling = poll().finally(() => {
      polling = undefined;
      startBackfill();
    });
  };
  tick(); // at start, not only after the first interval
  const timer = setInterval(tick, connector.pollMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await polling;
      await backfill;
      deps.connections?.delete(`source:${connector.name}`);
    },
    async pollNow() {
      await polling;
      tick();
      await polling;
      await backfill;
    },
  };
}

/** A running `startHealing`. */
export interface Healing {
  /** Stops polling and waits for what is under way. */
  stop(): Promise<void>;
  /** Polls now (after the poll under way, if any) and waits for it and the backfill it starts. */
  pollNow(): Promise<void>;
}

/**
 * Says once that a source's upstream is failing (warn) and once that it is back (info, with how long
 * it was down); the failures in between are at debug level, so an offline start is not a warning
 * per poll and retry. `/ready` lists it as `source:<name>` meanwhile.
 */
function outageLog(log: Logger, source: string, connections: Connections | undefined) {
  let downSinceMs: number | undefined;
  const name = `source:${source}`;
  return {
    failed(err: unknown, what: string) {
      const reason = (err as Error).message;
      connections?.set(name, false, reason);
      if (downSinceMs !== undefined) {
        log.debug({ source, reason }, what);
        return;
      }
      downSinceMs = Date.now();
      log.warn({ err, source, reason }, `${what}; further failures are logged at debug level until it recovers`);
    },
    succeeded() {
      connections?.set(name, true);
      if (downSinceMs === undefined) return;
      const downMs = Date.now() - downSinceMs;
      downSinceMs = undefined;
      log.info({ source, downMs }, `upstream back after ${duration(downMs)}`);
    },
  };
}

/** `850 ms`, `42 s`, `3 min 5 s`, `2 h 14 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor(s / 60) % 60} min`;
}
