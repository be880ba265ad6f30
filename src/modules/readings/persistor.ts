import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { ReadingBatch } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import { SeriesCatalog, type SeriesDelta } from './catalog.js';
import { PartitionTracker, type PartitionState } from './partitions.js';
import { DAY_MS, insertSeries, loadWriteState, savePartitionStates } from './repository.js';

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
  catalogSaveMs: number;
  /** Called after each commit, before any waiting publisher is answered (cache invalidation). */
  onCommitted: (ranges: CommittedRange[]) => void;
}

/**
 * Writes reading batches to the store with group commit: batches queued while a commit runs go
 * into the next transaction together, and each publisher is answered only after its rows committed.
 * Rows are appended with an ever-increasing `seq`, with no key check; a row not later than its
 * series' last stored time marks its day 'dirty', so queries dedupe that day until the compactor
 * has rewritten it.
 */
export class Persistor {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private running: Promise<void> | undefined;
  private nextSeq: number;
  private nextSeriesId: number;
  private lastCatalogSaveMs = Date.now();

  static async create(options: PersistorOptions): Promise<Persistor> {
    const catalog = await SeriesCatalog.load(options.store);
    const state = await loadWriteState(options.store);
    return new Persistor(options, catalog, new PartitionTracker(state.partitions), state.nextSeq);
  }

  private constructor(
    private readonly options: PersistorOptions,
    readonly catalog: SeriesCatalog,
    readonly partitions: PartitionTracker,
    nextSeq: number,
  ) {
    this.nextSeq = nextSeq;
    this.nextSeriesId = catalog.nextId;
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

  /** Waits until everything queued so far is committed, then saves the catalog (shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.catalog.hasUnsaved) {
      const onSaved = await this.options.store.transaction((tx) => this.catalog.save(tx));
      onSaved();
    }
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
    const { catalog, partitions } = this;
    const seriesId = new Int32Array(rows);
    const ts = new Float64Array(rows);
    const value = new Float64Array(rows);
    const seq = new Float64Array(rows);
    const newSeries = new Map<string, number>();
    const deltas = new Map<number, SeriesDelta>();
    // last ts per series within this commit; a row later than it cannot be a duplicate
    const lastTs = new Map<number, number>();
    const touchedDays = new Map<number, boolean>(); // day → may hold a duplicate
    const firstSeq = this.nextSeq;
    let nextSeq = firstSeq;

    let row = 0;
    for (const batch of batches) {
      // per-key scratch arrays (a batch's keys are a small dictionary): no Map work per row
      const keyCount = batch.keys.length;
      const ids = new Int32Array(keyCount);
      const last = new Float64Array(keyCount);
      const count = new Int32Array(keyCount);
      const first = new Float64Array(keyCount).fill(Infinity);
      const latest = new Float64Array(keyCount).fill(-Infinity);
      const latestValue = new Float64Array(keyCount);
      batch.keys.forEach((key, k) => {
        let id = catalog.get(key)?.id ?? newSeries.get(key);
        if (id === undefined) newSeries.set(key, (id = this.nextSeriesId++));
        ids[k] = id;
        last[k] = lastTs.get(id) ?? catalog.byId(id)?.lastTs ?? -Infinity;
      });
      let prevDay = NaN;
      let dayHasDuplicate = false;
      const { keyIndex, ts: batchTs, value: batchValue } = batch;
      for (let i = 0; i < batch.length; i++, row++) {
        const k = keyIndex[i];
        const t = batchTs[i];
        const v = batchValue[i];
        seriesId[row] = ids[k];
        ts[row] = t;
        value[row] = v;
        seq[row] = nextSeq++;
        const inOrder = t > last[k];
        if (inOrder) last[k] = t;
        const day = Math.floor(t / DAY_MS);
        if (day !== prevDay) {
          if (!Number.isNaN(prevDay)) touchedDays.set(prevDay, touchedDays.get(prevDay) || dayHasDuplicate);
          prevDay = day;
          dayHasDuplicate = false;
        }
        if (!inOrder) dayHasDuplicate = true;
        count[k]++;
        if (t < first[k]) first[k] = t;
        if (t >= latest[k]) {
          latest[k] = t;
          latestValue[k] = v;
        }
      }
      if (!Number.isNaN(prevDay)) touchedDays.set(prevDay, touchedDays.get(prevDay) || dayHasDuplicate);
      for (let k = 0; k < keyCount; k++) {
        if (count[k] === 0) continue;
        const id = ids[k];
        lastTs.set(id, last[k]);
        const d = deltas.get(id);
        if (!d) deltas.set(id, { id, count: count[k], firstTs: first[k], lastTs: latest[k], lastValue: latestValue[k] });
        else {
          d.count += count[k];
          if (first[k] < d.firstTs) d.firstTs = first[k];
          // a later batch in this commit is the later write
          if (latest[k] >= d.lastTs) {
            d.lastTs = latest[k];
            d.lastValue = latestValue[k];
          }
        }
      }
    }

    // Day states are made visible before the commit: a query that sees 'dirty' too early only
    // dedupes needlessly, while one that saw it too late could count a duplicate twice.
    for (const [day, mayHoldDuplicate] of touchedDays) {
      partitions.markWritten(day, mayHoldDuplicate || partitions.get(day) === 'dirty' ? 'dirty' : 'appended', nowMs);
    }
    const created = [...newSeries].filter(([, id]) => deltas.has(id)).map(([key, id]) => ({ id, key }));
    const saveCatalog = nowMs - this.lastCatalogSaveMs >= this.options.catalogSaveMs && catalog.hasUnsaved;

    const { savedStates, onCatalogSaved } = await this.options.store.transaction(async (tx) => {
      // decided here, when every earlier transaction (a compaction, say) has committed
      const states: ReadonlyMap<number, PartitionState> = partitions.unsaved(touchedDays.keys());
      await savePartitionStates(tx, states);
      await insertSeries(tx, created);
      const onSaved = saveCatalog ? await catalog.save(tx) : undefined;
      // last: in the steady state (known series, no state change) the append is the whole transaction
      await tx.bulkAppend('readings', [
        { type: 'int32', values: seriesId },
        { type: 'int64', values: ts },
        { type: 'float64', values: value },
        { type: 'int64', values: seq },
      ], rows);
      return { savedStates: states, onCatalogSaved: onSaved };
    });

    // Runs synchronously after the commit, before the next queued transaction can start, so
    // the catalog's seq watermark always matches what is committed.
    partitions.markSaved(savedStates);
    if (onCatalogSaved) {
      onCatalogSaved();
      this.lastCatalogSaveMs = nowMs;
    }
    for (const { id, key } of created) catalog.add({ id, key, unit: null, kind: 'gauge', count: 0, firstTs: Infinity, lastTs: -Infinity, lastValue: NaN });
    catalog.apply(deltas.values(), nextSeq - 1);
    this.nextSeq = nextSeq;
    this.options.metrics.persistCommitSeconds.observe((performance.now() - started) / 1000);
    this.options.metrics.persistRows.inc(rows);
    this.options.onCommitted([...deltas.values()].map((d) => ({ seriesId: d.id, minTs: d.firstTs, maxTs: d.lastTs })));
  }
}
