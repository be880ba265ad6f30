import type { Store } from '../../../../core/store/index.js';
import type { BackgroundOptions } from '../../storage.js';
import type { SeriesCatalog } from './catalog.js';
import type { PartitionTracker } from './partitions.js';
import {
  clusterMonth,
  loadClusteredMonths,
  loadReadingsClusteredMonths,
  monthAfter,
  monthOf,
  monthsToCluster,
  rollUpDay,
  unclusterMonth,
} from './rollups.js';
import {
  type CompactionSlice,
  compactSlice,
  planSlices,
  planSlicesIn,
  rowsPerSeries,
  rowsPerSeriesIn,
  savePartitionStates,
} from './repository.js';
import { DAY_MS } from '../../../../core/time/timestamps.js';

/** The readings' background options (storage.ts) and the engine state the compactor works on. */
export interface CompactorOptions extends BackgroundOptions {
  store: Store;
  partitions: PartitionTracker;
  catalog: SeriesCatalog;
}

/**
 * Rewrites days of readings sorted by (series, ts) with one row per (series, ts), in the background:
 * dirty days (which may hold duplicates) as soon as it runs, in-order days once they have gone quiet.
 * Sorted days make one series' query read a few row groups instead of the whole day, and each gets
 * its hourly rollups (rollups.ts) in the transaction that marks it sorted.
 */
export function startCompactor(options: CompactorOptions) {
  const { store, partitions, catalog, log, metrics } = options;
  let stopped = false;
  let running: Promise<void> | undefined;
  let clustered: Set<number> | undefined;
  /** Months whose readings were put in (series, ts) order once (migration 008): never again. */
  let readingsClustered: Set<number> | undefined;

  /**
   * Rewrites readings a slice at a time (`planSlices`: at most `sliceRows` rows each), each slice in
   * its own transaction, so the memory a rewrite holds until its commit is one slice's, not the
   * day's (47M rows rewritten in one go took the process to 5.1 GB): sorted by (series, ts), one row
   * per (series, ts). A slice is rewritten whole or not at all; a crash between slices leaves days
   * that are still dirty: queries keep deduplicating them and the next run compacts them again
   * (rewriting a compacted slice changes nothing). False when stopped midway.
   */
  async function rewriteSlices(slices: readonly CompactionSlice[]): Promise<boolean> {
    for (const slice of slices) {
      if (stopped) return false;
      const { removed, onCatalogSaved } = await store.transaction(async (tx) => {
        // save the catalog first so the removed duplicates are taken off counts that include them
        const saved = await catalog.save(tx);
        return { removed: await compactSlice(tx, slice, catalog.appliedSeq), onCatalogSaved: saved };
      });
      onCatalogSaved();
      catalog.subtractCounts(removed);
    }
    return true;
  }

  /**
   * After its rewrite: the day's rollups, and the day marked sorted — only if nothing was written to
   * it since `version` was taken (before the first slice).
   */
  async function finishDay(day: number, version: number, started: number) {
    // checked inside the transaction: writes are serialised with it, so none can slip in between
    const sorted = await store.transaction(async (tx) => {
      if (partitions.version(day) !== version) return undefined;
      // saved first, so readings rollUpDay deletes come off counts that include them
      const onCatalogSaved = await catalog.save(tx);
      const removed = await rollUpDay(tx, day);
      // the day's rollups now sit at the end, out of (series, hour) order
      if (clustered?.has(monthOf(day))) await unclusterMonth(tx, monthOf(day));
      await savePartitionStates(tx, new Map([[day, 'sorted']]));
      return { onCatalogSaved, removed };
    });
    if (sorted) {
      clustered?.delete(monthOf(day));
      sorted.onCatalogSaved();
      catalog.subtractCounts(sorted.removed);
      partitions.markSaved(new Map([[day, 'sorted']]));
    }
    partitions.markSorted(day, version, Date.now());
    metrics.compactions.inc();
    log.debug(
      { day: new Date(day * DAY_MS).toISOString().slice(0, 10), ms: Math.round(performance.now() - started) },
      'partition compacted',
    );
    return sorted !== undefined;
  }

  async function compactDay(day: number) {
    const started = performance.now();
    const version = partitions.version(day);
    if (await rewriteSlices(planSlices(await rowsPerSeries(store, day), day, options.sliceRows)))
      await finishDay(day, version, started);
  }

  /**
   * A month that is over, compacted in one pass (an import of past data, a server that was down):
   * its readings rewritten in (series, ts) order across all its days, which is what clustering the
   * month would do next — so they are written once, not sorted by day and then moved again (each
   * rewrite leaves the old blocks as free space in the file).
   */
  async function compactMonth(month: number, days: readonly number[]) {
    const started = performance.now();
    const versions = days.map((day) => partitions.version(day));
    const lo = month * DAY_MS;
    const hi = monthAfter(month) * DAY_MS;
    if (!(await rewriteSlices(planSlicesIn(await rowsPerSeriesIn(store, lo, hi), lo, hi, options.sliceRows)))) return;
    await markReadingsClustered(month);
    let allSorted = true;
    for (const [i, day] of days.entries()) allSorted = (await finishDay(day, versions[i], started)) && allSorted;
    if (allSorted && !stopped) await clusterRollups(month, started);
  }

  async function markReadingsClustered(month: number) {
    await store.transaction((tx) =>
      tx.run(`INSERT INTO readings_clustered_months (month) VALUES ($1) ON CONFLICT DO NOTHING`, [month]),
    );
    readingsClustered?.add(month);
  }

  async function clusterRollups(month: number, started: number) {
    await store.transaction((tx) => clusterMonth(tx, month));
    clustered?.add(month);
    log.debug(
      { month: new Date(month * DAY_MS).toISOString().slice(0, 7), ms: Math.round(performance.now() - started) },
      'month clustered',
    );
  }

  /** Due days grouped: whole months that are over (every day of theirs sorted or due), and the rest. */
  function plan(due: readonly number[], nowMs: number) {
    const current = monthOf(Math.floor(nowMs / DAY_MS));
    const dueSet = new Set(due);
    const complete = new Map<number, boolean>();
    for (const [day, state] of partitions.entries()) {
      const month = monthOf(day);
      if (month < current)
        complete.set(month, (complete.get(month) ?? true) && (state === 'sorted' || dueSet.has(day)));
    }
    const months = new Map<number, number[]>();
    const days: number[] = [];
    for (const day of due) {
      const month = monthOf(day);
      // once: a late day of a month already in order is re-sorted alone
      if (complete.get(month) && !readingsClustered?.has(month)) months.set(month, [...(months.get(month) ?? []), day]);
      else days.push(day);
    }
    return { months, days };
  }

  async function runOnce(quietMs: number, includeOpenDay = false) {
    clustered ??= await loadClusteredMonths(store);
    readingsClustered ??= await loadReadingsClusteredMonths(store);
    const nowMs = Date.now();
    const { months, days } = plan(
      partitions.dueForCompaction(nowMs, quietMs, options.dirtyWaitMs, includeOpenDay),
      nowMs,
    );
    for (const [month, monthDays] of months) {
      if (stopped) return;
      await compactMonth(month, monthDays);
      await store.checkpoint();
    }
    for (const day of days) {
      if (stopped) return;
      await compactDay(day);
      // the day's old row groups are free space only after a checkpoint: taken now, the next day's
      // rewrite reuses them instead of growing the file by a day's worth of blocks
      await store.checkpoint();
    }
    // months that are over, every day sorted a day at a time: their rollups into (series, hour)
    // order (again after a late write re-sorts one of their days), and their readings into (series,
    // ts) order the first time only
    for (const month of monthsToCluster(partitions.entries(), clustered, Date.now())) {
      if (stopped) return;
      const started = performance.now();
      if (!readingsClustered.has(month)) {
        const lo = month * DAY_MS;
        const hi = monthAfter(month) * DAY_MS;
        if (!(await rewriteSlices(planSlicesIn(await rowsPerSeriesIn(store, lo, hi), lo, hi, options.sliceRows))))
          return;
        await markReadingsClustered(month);
      }
      await clusterRollups(month, started);
      // the month's old row groups are free space only after a checkpoint
      await store.checkpoint();
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
