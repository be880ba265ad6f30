import type { Bus } from '../../core/bus/index.js';
import type { Logger } from '../../core/log.js';
import { READINGS_TOPIC, ReadingBatchBuilder, type Reading } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import type { Connector, ConnectorConfig } from './connector.js';
import type { Upstream } from './http.js';
import { finishedChunks, markChunkDone } from './repository.js';

const BATCH_ROWS = 10_000;

export interface RunnerDeps {
  connector: Connector;
  upstream: Upstream;
  config: ConnectorConfig;
  store: Store;
  bus: Bus;
  log: Logger;
}

/** Publishes readings on the bus in batches; resolves once they are durable. */
async function publish(bus: Bus, readings: Reading[]) {
  for (let i = 0; i < readings.length; i += BATCH_ROWS) {
    const builder = new ReadingBatchBuilder(Math.min(BATCH_ROWS, readings.length - i));
    for (const r of readings.slice(i, i + BATCH_ROWS)) builder.add(r);
    await bus.publish(READINGS_TOPIC, builder.take());
  }
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
  const { connector, upstream, config, store, bus, log } = deps;
  const done = await finishedChunks(store, connector.name);
  const first = Math.floor(fromMs / connector.chunkMs) * connector.chunkMs;
  let chunks = 0;
  let skipped = 0;
  let total = 0;
  for (let start = first; start < toMs && !signal?.aborted; start += connector.chunkMs) {
    const end = Math.min(start + connector.chunkMs, toMs);
    // a chunk reaching into the future is never final: it is fetched again next time
    const complete = end === start + connector.chunkMs && end <= Date.now();
    if (done.has(start)) {
      skipped++;
      continue;
    }
    const readings = await connector.fetch({ fromMs: start, toMs: end }, upstream, config);
    await publish(bus, readings);
    if (complete) await markChunkDone(store, connector.name, start, end, readings.length);
    chunks++;
    total += readings.length;
    log.info(
      { source: connector.name, from: new Date(start).toISOString(), readings: readings.length },
      'bootstrap chunk stored',
    );
  }
  return { chunks, skipped, readings: total };
}

/** Fetches the last `lookbackMs` now and every `pollMs`; a failed poll is logged and tried next time. */
export function startPolling(deps: RunnerDeps): () => void {
  const { connector, upstream, config, bus, log } = deps;
  let running = false;
  const poll = async () => {
    if (running) return;
    running = true;
    try {
      const toMs = Date.now();
      const readings = await connector.fetch({ fromMs: toMs - connector.lookbackMs, toMs }, upstream, config);
      await publish(bus, readings);
      log.debug({ source: connector.name, readings: readings.length }, 'poll stored');
    } catch (err) {
      log.warn({ err, source: connector.name }, 'poll failed; trying again at the next interval');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void poll(), connector.pollMs(config));
  timer.unref();
  return () => clearInterval(timer);
}
