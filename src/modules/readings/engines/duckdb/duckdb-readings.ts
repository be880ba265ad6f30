import type { ReadingBatch } from '../../../../core/readings.js';
import type { Store } from '../../../../core/store/index.js';
import type {
  AggregatePlan,
  Aggregation,
  Bucket,
  EnergySpans,
  EnergySpansPlan,
  ExportSlicePlan,
  NearestPlan,
  RawPlan,
  ReadingColumns,
} from '../../plan.js';
import type { BackgroundOptions, CatalogPage, ReadingsStorage, SeriesDescription, SeriesEntry } from '../../storage.js';
import { asReadingColumns, readColumns, readEnergySpans } from '../columns.js';
import { COMMON_AGGREGATE_SQL, energySpansSql, fixedBucketSql, rangeCondition } from '../standard-sql.js';
import { DAY_MS } from '../../../../core/time/timestamps.js';
import { type ZoneOffsets, zoneOffsets } from '../../../../core/time/zone-offsets.js';
import { SeriesCatalog } from './catalog.js';
import { startCompactor } from './compactor.js';
import { PartitionTracker, type PartitionState } from './partitions.js';
import { type PreparedWrite, prepareWrite } from './prepare-write.js';
import { insertSeries, loadWriteState, savePartitionStates } from './repository.js';
import { bucketHoldsWholeHours, rangesOutside, rolledAggregateSql, rolledRanges } from './rollups.js';

const AGGREGATE_SQL: Record<Aggregation, string> = {
  ...COMMON_AGGREGATE_SQL,
  first: 'arg_min(value, ts)',
  last: 'arg_max(value, ts)',
};

/** Zone offsets are worked out this far beyond a query's range (its neighbours' buckets too). */
const OFFSET_MARGIN_MS = 7 * 86_400_000;

function offsetsAround(zone: string, range: { startMs: number; endMs: number }) {
  return zoneOffsets(zone, range.startMs - OFFSET_MARGIN_MS, range.endMs + OFFSET_MARGIN_MS);
}

/**
 * DuckDB's bucket of `ts`, given the zone's offsets over the readings' range (`offsetsAround`) for a
 * calendar bucket. A calendar day is worked out with arithmetic on the zone's offsets (a CASE over
 * its few changes): DuckDB's `time_bucket` in a zone looks the zone up for every row, ~100 µs each
 * (a year of one-minute readings took minutes). Local midnight = the local time's day start, less
 * the offset in force then (the offset at the day's start in UTC, found from the reading's own offset).
 */
function bucketSql(bucket: Bucket, offsets: ZoneOffsets | undefined, ts = 'ts'): string {
  if (bucket.kind === 'fixed') return fixedBucketSql(bucket.widthMs, ts);
  if (!offsets) throw new Error('a calendar bucket needs the zone offsets');
  const offsetOf = (x: string) => {
    if (!offsets.untilMs.length) return String(offsets.offsetMs[0]);
    const steps = offsets.untilMs.map((until, i) => `WHEN ${x} < ${until} THEN ${offsets.offsetMs[i]}`).join(' ');
    return `(CASE ${steps} ELSE ${offsets.offsetMs.at(-1)} END)`;
  };
  const localDay = fixedBucketSql(86_400_000, `(${ts} + ${offsetOf(ts)})`);
  return `(${localDay} - ${offsetOf(`(${localDay} - ${offsetOf(ts)})`)})`;
}

/**
 * Readings in the embedded DuckDB store, append-first: rows are appended with an ever-increasing
 * `seq` and no key check; a row not later than its series' last stored time marks its day 'dirty',
 * and queries dedupe dirty days (highest seq wins) until the compactor has rewritten them.
 * The series catalog lives in memory (see catalog.ts).
 */
export class DuckDbReadings implements ReadingsStorage {
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

  async deleteSeries(key: string): Promise<boolean> {
    const entry = this.catalog.get(key);
    if (!entry) return false;
    await this.store.transaction(async (tx) => {
      await tx.run(`DELETE FROM readings WHERE series_id = $1`, [entry.id]);
      await tx.run(`DELETE FROM readings_hourly WHERE series_id = $1`, [entry.id]);
      await tx.run(`DELETE FROM series WHERE id = $1`, [entry.id]);
    });
    // its id is never given out again (nextSeriesId only grows)
    this.catalog.remove(entry.id);
    return true;
  }

  async listSeries(page: CatalogPage): Promise<SeriesEntry[]> {
    return this.catalog.page(page);
  }

  async lastTs(): Promise<number> {
    return this.catalog.lastTs();
  }

  async describe(series: readonly SeriesDescription[]): Promise<void> {
    const created: SeriesEntry[] = [];
    const updated: [SeriesEntry, Partial<SeriesEntry>][] = [];
    await this.store.transaction(async (tx) => {
      for (const s of series) {
        const existing = this.catalog.get(s.key);
        const entry = existing ?? emptyEntry(this.nextSeriesId++, s.key, s.unit, s.kind);
        const described = {
          unit: s.unit,
          kind: s.kind,
          intervalS: s.intervalS === undefined ? entry.intervalS : s.intervalS,
          description: s.description === undefined ? entry.description : s.description,
          tags: s.tags === undefined ? entry.tags : s.tags,
        };
        const tagsText = described.tags ? JSON.stringify(described.tags) : null;
        const values = [described.unit, described.kind, described.intervalS, described.description, tagsText, entry.id];
        if (existing) {
          await tx.run(
            `UPDATE series SET unit = $1, kind = $2, interval_s = $3, description = $4, tags = $5 WHERE id = $6`,
            values,
          );
          updated.push([existing, described]);
        } else {
          await tx.run(
            `INSERT INTO series (unit, kind, interval_s, description, tags, id, key) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [...values, s.key],
          );
          created.push(Object.assign(entry, described));
        }
      }
    });
    // the catalog in memory changes only once the transaction committed
    for (const [entry, described] of updated) Object.assign(entry, described);
    for (const entry of created) this.catalog.add(entry);
  }

  /** Over the hourly rollups where the buckets are whole hours and days are sorted (rollups.ts). */
  aggregate(plan: AggregatePlan): Promise<ReadingColumns> {
    const offsets = plan.bucket.kind === 'calendar' ? offsetsAround(plan.bucket.zone, plan) : undefined;
    const bucket = (ts: string) => bucketSql(plan.bucket, offsets, ts);
    const rolled = bucketHoldsWholeHours(plan.bucket, offsets)
      ? rolledRanges(this.partitions, plan.startMs, plan.endMs)
      : [];
    if (rolled.length) {
      // each part outside the rollups read on its own: a range scan skips the row groups in between
      const readings =
        rangesOutside(rolled, plan.startMs, plan.endMs)
          .map(([startMs, endMs]) => this.source({ seriesIds: plan.seriesIds, startMs, endMs }))
          .join(' UNION ALL ') || undefined;
      return readColumns(this.store, rolledAggregateSql({ ...plan, rolled, readings, bucket }));
    }
    const sql = `SELECT series_id, ${bucket('ts')} AS t, ${AGGREGATE_SQL[plan.agg]} AS value
      FROM (${this.source(plan)}) AS src GROUP BY 1, 2 ORDER BY 1, 2`;
    return readColumns(this.store, sql);
  }

  raw(plan: RawPlan): Promise<ReadingColumns> {
    if (!Number.isSafeInteger(plan.limit)) throw new Error(`limit ${plan.limit} is not a whole number`);
    return readColumns(
      this.store,
      `SELECT series_id, ts, value FROM (${this.source(plan)}) AS src ORDER BY series_id, ts LIMIT ${plan.limit}`,
    );
  }

  nearest(plan: NearestPlan): Promise<ReadingColumns> {
    // a (series, ts) written twice keeps its highest seq, as everywhere else
    const order = plan.side === 'last' ? 'ts DESC' : 'ts';
    return readColumns(
      this.store,
      `SELECT series_id, ts, value FROM (
         SELECT series_id, ts, value, row_number() OVER (PARTITION BY series_id ORDER BY ${order}, seq DESC) AS n
         FROM readings WHERE ${rangeCondition(plan)}) AS ranked
       WHERE n = 1 ORDER BY series_id`,
    );
  }

  energySpans(plan: EnergySpansPlan): Promise<EnergySpans> {
    // the deduplicated readings of every series' read range; energySpansSql narrows each to its own
    const range = { seriesIds: plan.seriesIds, startMs: Math.min(...plan.lo), endMs: Math.max(...plan.hi) };
    const offsets = plan.bucket.kind === 'calendar' ? offsetsAround(plan.bucket.zone, range) : undefined;
    const sql = energySpansSql(plan, this.source(range), (ts) => bucketSql(plan.bucket, offsets, ts));
    return readEnergySpans(this.store, sql);
  }

  async *exportSlice(plan: ExportSlicePlan): AsyncIterable<ReadingColumns> {
    const sql = `SELECT series_id, ts, value FROM (${this.source(plan)}) AS src ORDER BY ts, series_id`;
    for await (const chunk of this.store.streamNumbers(sql)) yield asReadingColumns(chunk);
  }

  /** (series_id, ts, value) of a range, one row per (series, ts): dirty days are deduplicated. */
  private source(range: ExportSlicePlan): string {
    const where = rangeCondition(range);
    const plain = `SELECT series_id, ts, value FROM readings WHERE ${where}`;
    const dirty = this.partitions.dirtyRanges(range.startMs, range.endMs);
    if (!dirty.length) return plain;
    // days that may hold late, resent or corrected rows: the highest seq of each (series, ts) wins
    const inDirty = dirty.map(([lo, hi]) => `(ts >= ${lo} AND ts < ${hi})`).join(' OR ');
    return `${plain} AND NOT (${inDirty})
      UNION ALL
      SELECT series_id, ts, arg_max(value, seq) AS value FROM readings WHERE ${where} AND (${inDirty}) GROUP BY series_id, ts`;
  }

  startBackground(options: BackgroundOptions) {
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

  async pruneRaw(seriesIds: readonly number[], beforeMs: number) {
    if (!seriesIds.length) return { deleted: 0, beforeMs };
    // whole days only, and not past the first day that is not sorted (its rollups are not complete):
    // so every pruned day's rollups hold all it had, and a later rewrite can merge into them
    let cutoffDay = Math.floor(beforeMs / DAY_MS);
    for (const day of this.partitions.daysBefore(cutoffDay))
      if (this.partitions.get(day) !== 'sorted') cutoffDay = Math.min(cutoffDay, day);
    const cutoff = cutoffDay * DAY_MS;
    const ids = seriesIds.map((id) => (Number.isSafeInteger(id) ? id : Number.NaN));
    if (ids.some(Number.isNaN)) throw new Error('series ids must be whole numbers');
    const inSeries = `series_id IN (${ids.join(', ')})`;
    const { removed, onSaved } = await this.store.transaction(async (tx) => {
      const onSaved = await this.catalog.save(tx);
      const rows = await tx.query<{ seriesId: number; n: number }>(
        `SELECT series_id AS "seriesId", CAST(count(*) AS INTEGER) AS n FROM readings WHERE ${inSeries} AND ts < $1 GROUP BY 1`,
        [cutoff],
      );
      const removed = new Map(rows.map((r) => [r.seriesId, Number(r.n)]));
      if (removed.size) {
        await tx.run(`DELETE FROM readings WHERE ${inSeries} AND ts < $1`, [cutoff]);
        const values = [...removed].map(([id, n]) => `(${id}, ${n})`);
        await tx.run(
          `UPDATE series SET count = series.count - v.n FROM (VALUES ${values.join(', ')}) AS v(id, n) WHERE series.id = v.id`,
        );
      }
      await tx.run(
        `INSERT INTO readings_pruned (series_id, before_ts) SELECT unnest([${ids.join(', ')}]), $1
         ON CONFLICT (series_id) DO UPDATE SET before_ts = greatest(readings_pruned.before_ts, excluded.before_ts)`,
        [cutoff],
      );
      return { removed, onSaved };
    });
    onSaved();
    this.catalog.subtractCounts(removed);
    return { deleted: [...removed.values()].reduce((a, b) => a + b, 0), beforeMs: cutoff };
  }

  /** Stops the compactor and saves the catalog. */
  async stop() {
    await this.compactor?.stop();
    if (this.catalog.hasUnsaved) {
      const onSaved = await this.store.transaction((tx) => this.catalog.save(tx));
      onSaved();
    }
  }

  /**
   * Appends a commit: lays it out (prepare-write.ts), marks the days it touches, commits the rows
   * with whatever else is due, then updates the in-memory state the commit changed.
   */
  async write(batches: ReadingBatch[], rows: number): Promise<void> {
    const nowMs = Date.now();
    const prepared = prepareWrite(batches, rows, {
      catalog: this.catalog,
      firstSeq: this.nextSeq,
      nextSeriesId: () => this.nextSeriesId++,
    });
    this.markDaysWritten(prepared.touchedDays, nowMs);
    const committed = await this.commit(prepared, nowMs);
    this.applyCommitted(prepared, committed, nowMs);
  }

  /**
   * Day states are made visible before the commit: a query that sees 'dirty' too early only
   * dedupes needlessly, while one that saw it too late could count a duplicate twice.
   */
  private markDaysWritten(touchedDays: ReadonlyMap<number, boolean>, nowMs: number) {
    const { partitions } = this;
    for (const [day, mayHoldDuplicate] of touchedDays) {
      partitions.markWritten(day, mayHoldDuplicate || partitions.get(day) === 'dirty' ? 'dirty' : 'appended', nowMs);
    }
  }

  /** One transaction: changed day states, new series, the catalog when a save is due, then the rows. */
  private async commit(prepared: PreparedWrite, nowMs: number) {
    const { catalog, partitions } = this;
    const saveCatalog = nowMs - this.lastCatalogSaveMs >= this.catalogSaveMs && catalog.hasUnsaved;
    return this.store.transaction(async (tx) => {
      // decided here, when every earlier transaction (a compaction, say) has committed
      const savedStates: ReadonlyMap<number, PartitionState> = partitions.unsaved(prepared.touchedDays.keys());
      await savePartitionStates(tx, savedStates);
      await insertSeries(tx, prepared.created);
      const onCatalogSaved = saveCatalog ? await catalog.save(tx) : undefined;
      // last: in the steady state (known series, no state change) the append is the whole transaction
      await tx.bulkAppend(
        'readings',
        [
          { type: 'int32', values: prepared.seriesId },
          { type: 'int64', values: prepared.ts },
          { type: 'float64', values: prepared.value },
          { type: 'serial', start: prepared.firstSeq },
        ],
        prepared.rows,
      );
      return { savedStates, onCatalogSaved };
    });
  }

  /**
   * Runs synchronously after the commit, before the next queued transaction can start, so the
   * catalog's seq watermark always matches what is committed.
   */
  private applyCommitted(
    prepared: PreparedWrite,
    committed: { savedStates: ReadonlyMap<number, PartitionState>; onCatalogSaved: (() => void) | undefined },
    nowMs: number,
  ) {
    const { catalog } = this;
    this.partitions.markSaved(committed.savedStates);
    if (committed.onCatalogSaved) {
      committed.onCatalogSaved();
      this.lastCatalogSaveMs = nowMs;
    }
    for (const { id, key } of prepared.created) catalog.add(emptyEntry(id, key, null, 'gauge'));
    catalog.apply(prepared.deltas.values(), prepared.lastSeq);
    this.nextSeq = prepared.lastSeq + 1;
  }
}

function emptyEntry(id: number, key: string, unit: string | null, kind: string): SeriesEntry {
  return {
    id,
    key,
    unit,
    kind,
    intervalS: null,
    description: null,
    tags: null,
    count: 0,
    firstTs: Infinity,
    lastTs: -Infinity,
    lastValue: NaN,
  };
}
