import type { Logger } from '../../../../core/log.js';
import type { ReadingsMetrics as Metrics } from '../../metrics.js';
import type { Store } from '../../../../core/store/index.js';
import type { SeriesCatalog } from './catalog.js';
import type { PartitionTracker } from './partitions.js';
import { compactPartition, savePartitionStates } from './repository.js';

export interface CompactorOptions {
  store: Store;
  partitions: PartitionTracker;
  catalog: SeriesCatalog;
  log: Logger;
  metrics: Metrics;
  intervalMs: number;
  quietMs: number;
  /** Days of more rows than this are rewritten a slice at a time (see compactPartition). */
  sliceRows: number;
}

/**
 * Rewrites days of readings sorted by (series, ts) with one row per (series, ts), in the background:
 * dirty days (which may hold duplicates) as soon as it runs, in-order days once they have gone quiet.
 * Sorted days make one series' query read a few row groups instead of the whole day.
 */
export function startCompactor(options: CompactorOptions) {
  const { store, partitions, catalog, log, metrics } = options;
  let stopped = false;
  let running: Promise<void> | undefined;

  async function compactDay(day: number) {
    const started = performance.now();
    // taken before the transaction is queued: a write marked after this may commit after the rewrite
    const version = partitions.version(day);
    const { removed, onCatalogSaved, sortedSaved } = await store.transaction(async (tx) => {
      // save the catalog first so the removed duplicates are taken off counts that include them
      const saved = await catalog.save(tx);
      const gone = await compactPartition(tx, day, catalog.appliedSeq, options.sliceRows);
      const unchanged = partitions.version(day) === version;
      if (unchanged) await savePartitionStates(tx, new Map([[day, 'sorted']]));
      return { removed: gone, onCatalogSaved: saved, sortedSaved: unchanged };
    });
    onCatalogSaved();
    catalog.subtractCounts(removed);
    if (sortedSaved) partitions.markSaved(new Map([[day, 'sorted']]));
    partitions.markSorted(day, version);
    metrics.compactions.inc();
    log.debug(
      { day: new Date(day * 86_400_000).toISOString().slice(0, 10), ms: Math.round(performance.now() - started) },
      'partition compacted',
    );
  }

  async function runOnce(quietMs: number, includeOpenDay = false) {
    for (const day of partitions.dueForCompaction(Date.now(), quietMs, includeOpenDay)) {
      if (stopped) return;
      await compactDay(day);
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
    /** Compacts every dirty or appended day now, quiet and over or not (tests and benchmarks). */
    async runNow() {
      while (running) await running;
      await runOnce(0, true);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await running;
    },
  };
}
