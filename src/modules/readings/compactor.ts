import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { Store } from '../../core/store/index.js';
import type { PartitionTracker } from './partitions.js';
import { compactPartition } from './repository.js';

/**
 * Rewrites days of readings sorted by (series, ts) with one row per (series, ts), in the background:
 * dirty days (which may hold duplicates) as soon as it runs, in-order days once they have gone quiet.
 * Sorted days make one series' query read a few row groups instead of the whole day.
 */
export function startCompactor(options: { store: Store; partitions: PartitionTracker; log: Logger; metrics: Metrics; intervalMs: number; quietMs: number }) {
  const { store, partitions, log, metrics } = options;
  let stopped = false;
  let running: Promise<void> | undefined;

  async function runOnce(quietMs: number) {
    for (const day of partitions.dueForCompaction(Date.now(), quietMs)) {
      if (stopped) return;
      const recount = partitions.get(day) === 'dirty';
      const started = performance.now();
      // taken before the transaction is queued: a write marked after this may commit after the rewrite
      const version = partitions.version(day);
      await store.transaction((tx) => compactPartition(tx, day, recount));
      partitions.markSorted(day, version);
      metrics.compactions.inc();
      log.debug({ day: new Date(day * 86_400_000).toISOString().slice(0, 10), ms: Math.round(performance.now() - started) }, 'partition compacted');
    }
  }

  const timer = setInterval(() => {
    if (running) return;
    running = runOnce(options.quietMs)
      .catch((err) => log.error({ err }, 'compaction failed'))
      .finally(() => (running = undefined));
  }, options.intervalMs);
  timer.unref();

  return {
    /** Compacts every dirty or appended day now, quiet or not (tests and benchmarks). */
    async runNow() {
      while (running) await running;
      await runOnce(0);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await running;
    },
  };
}
