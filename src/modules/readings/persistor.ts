import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { ReadingBatch } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import { PartitionTracker, type PartitionState } from './partitions.js';
import { DAY_MS, insertSeries, loadWriteState, savePartitionStates, updateSeriesStats, type SeriesStats } from './repository.js';

interface Pending {
  batch: ReadingBatch;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface CommittedRange {
  seriesId: number;
  minTs: number;
  maxTs: number;
}

export interface PersistorOptions {
  store: Store;
  log: Logger;
  metrics: Metrics;
  maxBatchRows: number;
  lingerMs: number;
  /** Called after each commit, before any waiting publisher is answered (cache invalidation). */
  onCommitted: (ranges: CommittedRange[]) => void;
}

/**
 * Writes reading batches to the store with group commit: batches queued while a commit runs go
 * into the next transaction together, and each publisher is answered only after its rows committed.
 * Rows are appended with an ever-increasing `seq`; a row not later than its series' last stored
 * time marks its day 'dirty' so queries dedupe it until the compactor has rewritten that day.
 */
export class Persistor {
  readonly partitions: PartitionTracker;
  private queue: Pending[] = [];
  private queuedRows = 0;
  private running: Promise<void> | undefined;
  private nextSeq: number;
  private nextSeriesId: number;
  private seriesIds: Map<string, number>;
  // last stored ts per series id: a row later than this cannot be a duplicate
  private lastTs: Float64Array;

  static async create(options: PersistorOptions): Promise<Persistor> {
    return new Persistor(options, await loadWriteState(options.store));
  }

  private constructor(
    private readonly options: PersistorOptions,
    state: Awaited<ReturnType<typeof loadWriteState>>,
  ) {
    this.nextSeq = state.nextSeq;
    this.seriesIds = new Map(state.series.map((s) => [s.key, s.id]));
    this.nextSeriesId = state.series.reduce((max, s) => Math.max(max, s.id), 0) + 1;
    this.lastTs = new Float64Array(Math.max(1024, this.nextSeriesId * 2)).fill(-Infinity);
    for (const s of state.series) if (s.last_ts !== null) this.lastTs[s.id] = s.last_ts;
    this.partitions = new PartitionTracker(state.partitions);
  }

  /** Rows waiting to be committed. */
  get backlogRows(): number {
    return this.queuedRows;
  }

  /** Resolves once every row of `batch` is committed. */
  write(batch: ReadingBatch): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.queuedRows += batch.length;
      this.options.metrics.persistQueueRows.set(this.queuedRows);
      this.running ??= this.drain();
    });
  }

  /** Waits until everything queued so far is committed (graceful shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain() {
    try {
      while (this.queue.length) {
        if (this.options.lingerMs > 0 && this.queuedRows < this.options.maxBatchRows) {
          await new Promise((r) => setTimeout(r, this.options.lingerMs));
        }
        const group: Pending[] = [];
        let rows = 0;
        while (this.queue.length && (group.length === 0 || rows + this.queue[0].batch.length <= this.options.maxBatchRows)) {
          const p = this.queue.shift()!;
          group.push(p);
          rows += p.batch.length;
        }
        try {
          await this.commit(group.map((p) => p.batch), rows);
          for (const p of group) p.resolve();
        } catch (err) {
          this.options.log.error({ err, rows }, 'batch commit failed');
          for (const p of group) p.reject(err);
        } finally {
          this.queuedRows -= rows;
          this.options.metrics.persistQueueRows.set(this.queuedRows);
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  private async commit(batches: ReadingBatch[], rows: number) {
    const started = performance.now();
    const nowMs = Date.now();
    const seriesId = new Int32Array(rows);
    const ts = new Float64Array(rows);
    const value = new Float64Array(rows);
    const seq = new Float64Array(rows);
    const newSeries = new Map<string, number>();
    const stats = new Map<number, SeriesStats>();
    // last ts per series as of this commit, applied to this.lastTs only once it has committed
    const pendingLast = new Map<number, number>();
    const touchedDays = new Map<number, boolean>(); // day → holds a possible duplicate
    let seqBase = this.nextSeq;

    let row = 0;
    for (const batch of batches) {
      const ids = batch.keys.map((key) => {
        let id = this.seriesIds.get(key) ?? newSeries.get(key);
        if (id === undefined) {
          id = this.nextSeriesId++;
          newSeries.set(key, id);
        }
        return id;
      });
      this.ensureLastTsCapacity(this.nextSeriesId);
      let prevId = -1;
      let last = -Infinity;
      let stat: SeriesStats | undefined;
      let prevDay = NaN;
      let dayHasDuplicate = false;
      for (let i = 0; i < batch.length; i++, row++) {
        const id = ids[batch.keyIndex[i]];
        const t = batch.ts[i];
        const v = batch.value[i];
        if (id !== prevId) {
          if (prevId >= 0) pendingLast.set(prevId, last);
          stat = stats.get(id);
          if (!stat) {
            stat = { id, key: '', count: 0, firstTs: t, lastTs: t, lastValue: v };
            stats.set(id, stat);
          }
          last = pendingLast.get(id) ?? this.lastTs[id];
          prevId = id;
        }
        seriesId[row] = id;
        ts[row] = t;
        value[row] = v;
        seq[row] = seqBase++;
        const inOrder = t > last;
        if (inOrder) last = t;
        const day = Math.floor(t / DAY_MS);
        if (day !== prevDay || !inOrder) {
          if (day !== prevDay) {
            if (!Number.isNaN(prevDay)) touchedDays.set(prevDay, (touchedDays.get(prevDay) ?? false) || dayHasDuplicate);
            prevDay = day;
            dayHasDuplicate = false;
          }
          if (!inOrder) dayHasDuplicate = true;
        }
        const s = stat!;
        s.count++;
        if (t < s.firstTs) s.firstTs = t;
        if (t >= s.lastTs) {
          s.lastTs = t;
          s.lastValue = v;
        }
      }
      if (prevId >= 0) pendingLast.set(prevId, last);
      if (!Number.isNaN(prevDay)) touchedDays.set(prevDay, (touchedDays.get(prevDay) ?? false) || dayHasDuplicate);
    }

    // State changes are made visible before the commit: a query that reads 'dirty' too early only
    // dedupes needlessly, while one that reads it too late could count a duplicate twice.
    // Every touched day's state is saved with the rows (not just changes), so a compaction that
    // committed in between cannot leave 'sorted' on disk for a day this commit made dirty.
    const dayStates = new Map<number, PartitionState>();
    for (const [day, hasDuplicate] of touchedDays) {
      const next: PartitionState = hasDuplicate || this.partitions.get(day) === 'dirty' ? 'dirty' : 'appended';
      dayStates.set(day, next);
      this.partitions.markWritten(day, next, nowMs);
    }

    const inserted: SeriesStats[] = [];
    const updated: SeriesStats[] = [];
    for (const [key, id] of newSeries) {
      const s = stats.get(id);
      if (s) s.key = key;
      else newSeries.delete(key); // a key without rows is not catalogued
    }
    for (const s of stats.values()) (s.key ? inserted : updated).push(s);

    await this.options.store.transaction(async (tx) => {
      await tx.bulkAppend('readings', [
        { type: 'int32', values: seriesId },
        { type: 'int64', values: ts },
        { type: 'float64', values: value },
        { type: 'int64', values: seq },
      ], rows);
      await insertSeries(tx, inserted);
      await updateSeriesStats(tx, updated);
      await savePartitionStates(tx, dayStates);
    });

    this.nextSeq = seqBase;
    for (const [key, id] of newSeries) this.seriesIds.set(key, id);
    for (const [id, t] of pendingLast) if (t > this.lastTs[id]) this.lastTs[id] = t;
    this.options.metrics.persistCommitSeconds.observe((performance.now() - started) / 1000);
    this.options.metrics.persistRows.inc(rows);
    this.options.onCommitted([...stats.values()].map((s) => ({ seriesId: s.id, minTs: s.firstTs, maxTs: s.lastTs })));
  }

  private ensureLastTsCapacity(n: number) {
    if (n < this.lastTs.length) return;
    const grown = new Float64Array(n * 2).fill(-Infinity);
    grown.set(this.lastTs);
    this.lastTs = grown;
  }
}
