import type { Logger } from '../../core/log.js';
import type { ReadingsMetrics as Metrics } from './metrics.js';
import type { ReadingBatch } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import { SeriesCatalog, type SeriesDelta, type SeriesEntry } from './catalog.js';
import { startCompactor } from './compactor.js';
import { PartitionTracker, type PartitionState } from './partitions.js';
import { DAY_MS, insertSeries, loadWriteState, savePartitionStates } from './repository.js';
import type { ReadingsStorage, SeriesDescription } from './storage.js';

/**
 * Readings in the embedded DuckDB store, append-first: rows are appended with an ever-increasing
 * `seq` and no key check; a row not later than its series' last stored time marks its day 'dirty',
 * and queries dedupe dirty days (highest seq wins) until the compactor has rewritten them.
 * The series catalog lives in memory (see catalog.ts).
 */
export class DuckDbReadings implements ReadingsStorage {
  readonly sql = {
    tzDayBucket: `epoch_ms(time_bucket(INTERVAL '1 day', make_timestamptz(ts * 1000), $1))`,
    first: 'arg_min(value, ts)',
    last: 'arg_max(value, ts)',
  };
  private nextSeq: number;
  private nextSeriesId: number;
  private lastCatalogSaveMs = Date.now();
  private compactor: ReturnType<typeof startCompactor> | undefined;

  static async open(options: { store: Store; catalogSaveMs: number }): Promise<DuckDbReadings> {
    const catalog = await SeriesCatalog.load(options.store);
    const state = await loadWriteState(options.store);
    return new DuckDbReadings(
      options.store,
      options.catalogSaveMs,
      catalog,
      new PartitionTracker(state.partitions),
      state.nextSeq,
    );
  }

  private constructor(
    private readonly store: Store,
    private readonly catalogSaveMs: number,
    readonly catalog: SeriesCatalog,
    readonly partitions: PartitionTracker,
    nextSeq: number,
  ) {
    this.nextSeq = nextSeq;
    this.nextSeriesId = catalog.nextId;
  }

  async series(keys?: readonly string[]): Promise<SeriesEntry[]> {
    if (!keys) return this.catalog.list();
    return keys.map((k) => this.catalog.get(k)).filter((s) => s !== undefined);
  }

  async describe(series: readonly SeriesDescription[]): Promise<void> {
    const created: SeriesEntry[] = [];
    await this.store.transaction(async (tx) => {
      for (const s of series) {
        const existing = this.catalog.get(s.key);
        if (existing) {
          await tx.run(`UPDATE series SET unit = $1, kind = $2 WHERE id = $3`, [s.unit, s.kind, existing.id]);
        } else {
          const entry: SeriesEntry = {
            id: this.nextSeriesId++,
            key: s.key,
            unit: s.unit,
            kind: s.kind,
            count: 0,
            firstTs: Infinity,
            lastTs: -Infinity,
            lastValue: NaN,
          };
          await tx.run(`INSERT INTO series (id, key, unit, kind) VALUES ($1, $2, $3, $4)`, [
            entry.id,
            s.key,
            s.unit,
            s.kind,
          ]);
          created.push(entry);
        }
      }
    });
    for (const s of series) {
      const existing = this.catalog.get(s.key);
      if (existing) Object.assign(existing, { unit: s.unit, kind: s.kind });
    }
    for (const entry of created) this.catalog.add(entry);
  }

  source(where: string, startMs: number, endMs: number): string {
    const plain = `SELECT series_id, ts, value FROM readings WHERE ${where}`;
    const dirty = this.partitions.dirtyRanges(startMs, endMs);
    if (!dirty.length) return plain;
    // days that may hold late, resent or corrected rows: the highest seq of each (series, ts) wins
    const inDirty = dirty.map(([lo, hi]) => `(ts >= ${lo} AND ts < ${hi})`).join(' OR ');
    return `${plain} AND NOT (${inDirty})
      UNION ALL
      SELECT series_id, ts, arg_max(value, seq) AS value FROM readings WHERE ${where} AND (${inDirty}) GROUP BY series_id, ts`;
  }

  startBackground(options: { log: Logger; metrics: Metrics; intervalMs: number; quietMs: number }) {
    this.compactor = startCompactor({
      store: this.store,
      partitions: this.partitions,
      catalog: this.catalog,
      ...options,
    });
  }

  async compactNow() {
    await this.compactor?.runNow();
  }

  /** Stops the compactor and saves the catalog. */
  async stop() {
    await this.compactor?.stop();
    if (this.catalog.hasUnsaved) {
      const onSaved = await this.store.transaction((tx) => this.catalog.save(tx));
      onSaved();
    }
  }

  async write(batches: ReadingBatch[], rows: number): Promise<void> {
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
        if (!d)
          deltas.set(id, { id, count: count[k], firstTs: first[k], lastTs: latest[k], lastValue: latestValue[k] });
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
    const saveCatalog = nowMs - this.lastCatalogSaveMs >= this.catalogSaveMs && catalog.hasUnsaved;

    const { savedStates, onCatalogSaved } = await this.store.transaction(async (tx) => {
      // decided here, when every earlier transaction (a compaction, say) has committed
      const states: ReadonlyMap<number, PartitionState> = partitions.unsaved(touchedDays.keys());
      await savePartitionStates(tx, states);
      await insertSeries(tx, created);
      const onSaved = saveCatalog ? await catalog.save(tx) : undefined;
      // last: in the steady state (known series, no state change) the append is the whole transaction
      await tx.bulkAppend(
        'readings',
        [
          { type: 'int32', values: seriesId },
          { type: 'int64', values: ts },
          { type: 'float64', values: value },
          { type: 'int64', values: seq },
        ],
        rows,
      );
      return { savedStates: states, onCatalogSaved: onSaved };
    });

    // Runs synchronously after the commit, before the next queued transaction can start, so
    // the catalog's seq watermark always matches what is committed.
    partitions.markSaved(savedStates);
    if (onCatalogSaved) {
      onCatalogSaved();
      this.lastCatalogSaveMs = nowMs;
    }
    for (const { id, key } of created)
      catalog.add({
        id,
        key,
        unit: null,
        kind: 'gauge',
        count: 0,
        firstTs: Infinity,
        lastTs: -Infinity,
        lastValue: NaN,
      });
    catalog.apply(deltas.values(), nextSeq - 1);
    this.nextSeq = nextSeq;
  }
}
