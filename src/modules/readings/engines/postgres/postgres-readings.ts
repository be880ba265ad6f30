import type { ReadingBatch } from '../../../../core/readings.js';
import type { Store, StoreTx } from '../../../../core/store/index.js';
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
import type { CatalogPage, ReadingsStorage, SeriesDescription, SeriesEntry } from '../../storage.js';
import { asReadingColumns, readEnergySpans, rowsAsColumns } from '../columns.js';
import { parseTags } from '../series-tags.js';
import { COMMON_AGGREGATE_SQL, energySpansSql, fixedBucketSql, rangeCondition } from '../standard-sql.js';
import type { BackgroundOptions } from '../../storage.js';
import { MARK_WRITTEN_HOURS_SQL, rolledAggregateSql, rollUpDirtyHours } from './rollups.js';

const MONTHS_AHEAD = 2;
const DEADLOCK = '40P01';
const NUMERIC_OUT_OF_RANGE = '22003';
const COMMIT_ATTEMPTS = 3;

interface SeriesRow {
  id: number;
  key: string;
  unit: string | null;
  kind: string;
  interval_s: number | null;
  description: string | null;
  tags: string | null;
  count: number;
  first_ts: number | null;
  last_ts: number | null;
  last_value: number | null;
}

const SERIES_COLUMNS = 'id, key, unit, kind, interval_s, description, tags, count, first_ts, last_ts, last_value';

function seriesEntry(r: SeriesRow): SeriesEntry {
  return {
    id: r.id,
    key: r.key,
    unit: r.unit,
    kind: r.kind,
    intervalS: r.interval_s,
    description: r.description,
    tags: parseTags(r.tags),
    count: r.count,
    firstTs: r.first_ts ?? Infinity,
    lastTs: r.last_ts ?? -Infinity,
    lastValue: r.last_value ?? NaN,
  };
}

/** Start (UTC epoch ms) of the month holding `tsMs`, and of the month `add` months later. */
function monthStart(tsMs: number, add = 0): number {
  const d = new Date(tsMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
}

function partitionName(monthMs: number): string {
  const d = new Date(monthMs);
  const y = d.getUTCFullYear();
  return `readings_p${y < 0 ? 'm' + -y : y}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

const AGGREGATE_SQL: Record<Aggregation, string> = {
  ...COMMON_AGGREGATE_SQL,
  first: '(array_agg(value ORDER BY ts))[1]',
  last: '(array_agg(value ORDER BY ts DESC))[1]',
};

/**
 * sum and avg again, accumulated in numeric: PostgreSQL raises "value out of range: overflow" where
 * a float8 sum passes ±1.8e308, DuckDB answers ±Infinity. Read back as text, such a value is
 * ±Infinity here too, and the query engine answers both the same way (422 `value_overflow`).
 */
const NUMERIC_AGGREGATE_SQL: Partial<Record<Aggregation, string>> = {
  sum: 'sum(value::numeric)::text',
  avg: 'avg(value::numeric)::text',
};

/** PostgreSQL's bucket of `ts`; a calendar day's zone is bound to $1. */
function bucketSql(bucket: Bucket, ts = 'ts'): string {
  if (bucket.kind === 'fixed') return fixedBucketSql(bucket.widthMs, ts);
  return `(extract(epoch FROM date_trunc('day', to_timestamp(${ts} / 1000.0), $1)) * 1000)::bigint`;
}

/**
 * Readings in PostgreSQL: a COPY into a staging table, then one upsert on the primary key
 * (series, ts), the batch's last row for a key winning — the same last-write-wins the embedded
 * store gets by compaction. Several persistors may write at once; series stats are updated in the
 * same transaction, so any process reads a current catalog.
 */
export class PostgresReadings implements ReadingsStorage {
  private readonly ids = new Map<string, number>();
  private readonly partitions = new Set<number>();
  private rollupTimer: NodeJS.Timeout | undefined;
  private rollingUp: Promise<unknown> | undefined;

  constructor(private readonly store: Store) {}

  async series(keys?: readonly string[]): Promise<SeriesEntry[]> {
    const rows = await this.store.query<SeriesRow>(
      `SELECT ${SERIES_COLUMNS} FROM series ${keys ? 'WHERE key = ANY($1)' : ''} ORDER BY key`,
      keys ? [keys] : [],
    );
    return rows.map(seriesEntry);
  }

  async deleteSeries(key: string): Promise<boolean> {
    const deleted = await this.store.transaction(async (tx) => {
      const [row] = await tx.query<{ id: number }>(`DELETE FROM series WHERE key = $1 RETURNING id`, [key]);
      if (row) {
        await tx.run(`DELETE FROM readings WHERE series_id = $1`, [row.id]);
        await tx.run(`DELETE FROM readings_hourly WHERE series_id = $1`, [row.id]);
        await tx.run(`DELETE FROM readings_hours_dirty WHERE series_id = $1`, [row.id]);
      }
      return row !== undefined;
    });
    this.ids.delete(key);
    return deleted;
  }

  async listSeries(page: CatalogPage): Promise<SeriesEntry[]> {
    if (!Number.isSafeInteger(page.limit)) throw new Error(`limit ${page.limit} is not a whole number`);
    // tags as JSON containment: {"room":"kitchen"} is in {"room":"kitchen","floor":"1"}
    const rows = await this.store.query<SeriesRow>(
      `SELECT ${SERIES_COLUMNS} FROM series
       WHERE starts_with(key, $1) AND ($2::text IS NULL OR key > $2) AND ($3::text IS NULL OR tags::jsonb @> $3::jsonb)
       ORDER BY key LIMIT ${page.limit}`,
      [page.prefix ?? '', page.afterKey ?? null, page.tags ? JSON.stringify(page.tags) : null],
    );
    return rows.map(seriesEntry);
  }

  async lastTs(): Promise<number> {
    const [row] = await this.store.query<{ last: number | null }>(`SELECT max(last_ts) AS last FROM series`);
    return row?.last ?? -Infinity;
  }

  async describe(series: readonly SeriesDescription[]): Promise<void> {
    if (!series.length) return;
    // a description is rare (a connector's start, a PUT): one statement per series is fine
    await this.store.transaction(async (tx) => {
      for (const s of series) {
        // interval_s and description stay as they are where the description leaves them undefined
        const also = [
          s.intervalS === undefined ? '' : ', interval_s = excluded.interval_s',
          s.description === undefined ? '' : ', description = excluded.description',
          s.tags === undefined ? '' : ', tags = excluded.tags',
        ].join('');
        await tx.run(
          `INSERT INTO series (key, unit, kind, interval_s, description, tags) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (key) DO UPDATE SET unit = excluded.unit, kind = excluded.kind${also}`,
          [s.key, s.unit, s.kind, s.intervalS ?? null, s.description ?? null, s.tags ? JSON.stringify(s.tags) : null],
        );
      }
    });
  }

  /** Over the hourly rollups where the buckets are whole hours (rollups.ts), else over the readings. */
  async aggregate(plan: AggregatePlan): Promise<ReadingColumns> {
    rangeCondition(plan); // checks every number of the plan is a whole number before it is inlined
    const rolled = rolledAggregateSql(plan, plan.seriesIds.join(', '));
    if (rolled) {
      try {
        return rowsAsColumns(await this.store.query<{ series_id: number; ts: number; value: number }>(rolled));
      } catch (err) {
        // the rare overflow: answered from the readings in numeric, below
        if ((err as { code?: string }).code !== NUMERIC_OUT_OF_RANGE) throw err;
      }
    }
    const select = <V>(aggregateSql: string) =>
      this.store.query<{ series_id: number; ts: number; value: V }>(
        `SELECT series_id, ${bucketSql(plan.bucket)} AS ts, ${aggregateSql} AS value
         FROM readings WHERE ${rangeCondition(plan)} GROUP BY 1, 2 ORDER BY 1, 2`,
        plan.bucket.kind === 'calendar' ? [plan.bucket.zone] : [],
      );
    const numeric = NUMERIC_AGGREGATE_SQL[plan.agg];
    try {
      return rowsAsColumns(await select<number>(AGGREGATE_SQL[plan.agg]));
    } catch (err) {
      if ((err as { code?: string }).code !== NUMERIC_OUT_OF_RANGE || !numeric) throw err;
    }
    // the rare overflow: numeric text beyond a double becomes ±Infinity as a number
    return rowsAsColumns((await select<string>(numeric)).map((r) => ({ ...r, value: Number(r.value) })));
  }

  async raw(plan: RawPlan): Promise<ReadingColumns> {
    if (!Number.isSafeInteger(plan.limit)) throw new Error(`limit ${plan.limit} is not a whole number`);
    const rows = await this.store.query<{ series_id: number; ts: number; value: number }>(
      `SELECT series_id, ts, value FROM readings WHERE ${rangeCondition(plan)} ORDER BY series_id, ts LIMIT ${plan.limit}`,
    );
    return rowsAsColumns(rows);
  }

  async nearest(plan: NearestPlan): Promise<ReadingColumns> {
    const rows = await this.store.query<{ series_id: number; ts: number; value: number }>(
      `SELECT DISTINCT ON (series_id) series_id, ts, value FROM readings WHERE ${rangeCondition(plan)}
       ORDER BY series_id, ts ${plan.side === 'last' ? 'DESC' : 'ASC'}`,
    );
    return rowsAsColumns(rows);
  }

  energySpans(plan: EnergySpansPlan): Promise<EnergySpans> {
    const range = { seriesIds: plan.seriesIds, startMs: Math.min(...plan.lo), endMs: Math.max(...plan.hi) };
    const source = `SELECT series_id, ts, value FROM readings WHERE ${rangeCondition(range)}`;
    const sql = energySpansSql(plan, source, (ts) => bucketSql(plan.bucket, ts));
    return readEnergySpans(this.store, sql, plan.bucket.kind === 'calendar' ? [plan.bucket.zone] : undefined);
  }

  async *exportSlice(plan: ExportSlicePlan): AsyncIterable<ReadingColumns> {
    const sql = `SELECT series_id, ts, value FROM readings WHERE ${rangeCondition(plan)} ORDER BY ts, series_id`;
    for await (const chunk of this.store.streamNumbers(sql)) yield asReadingColumns(chunk);
  }

  startBackground(options: BackgroundOptions) {
    // partitions for the coming months, so live data never waits for a CREATE
    const now = Date.now();
    void this.ensurePartitions(Array.from({ length: MONTHS_AHEAD + 1 }, (_, i) => monthStart(now, i))).catch(
      () => undefined,
    );
    // the hours commits marked, rolled up (every persistor runs it; each takes marks the others do not hold)
    this.rollupTimer = setInterval(() => {
      if (this.rollingUp) return;
      this.rollingUp = rollUpDirtyHours(this.store)
        .catch((err) => options.log.error({ err }, 'rolling up hours failed'))
        .finally(() => (this.rollingUp = undefined));
    }, options.intervalMs);
    this.rollupTimer.unref();
  }

  /** Rolls up every marked hour now (tests and benchmarks). */
  async compactNow() {
    while (this.rollingUp) await this.rollingUp;
    await rollUpDirtyHours(this.store);
  }

  /** Retention is not applied here yet (rollups are, rollups.ts): no raw reading is deleted. */
  async pruneRaw() {
    return undefined;
  }

  async stop() {
    clearInterval(this.rollupTimer);
    while (this.rollingUp) await this.rollingUp;
  }

  async write(batches: ReadingBatch[], rows: number): Promise<void> {
    const ids = await this.resolveIds([...new Set(batches.flatMap((b) => b.keys))]);
    const seriesId = new Int32Array(rows);
    const ts = new Float64Array(rows);
    const value = new Float64Array(rows);
    const seq = new Float64Array(rows);
    const order = new Float64Array(rows);
    const months = new Set<number>();
    // a batch that did not come over the bus (a test, a tool) is as late as now
    const now = Date.now() * 1000;
    let row = 0;
    for (const batch of batches) {
      const batchIds = batch.keys.map((k) => ids.get(k)!);
      const batchOrder = batch.order ?? now;
      let lastMonthEnd = -Infinity;
      let lastMonthStart = Infinity;
      for (let i = 0; i < batch.length; i++, row++) {
        const t = batch.ts[i];
        seriesId[row] = batchIds[batch.keyIndex[i]];
        ts[row] = t;
        value[row] = batch.value[i];
        seq[row] = row;
        order[row] = batchOrder;
        if (t < lastMonthStart || t >= lastMonthEnd) {
          lastMonthStart = monthStart(t);
          lastMonthEnd = monthStart(t, 1);
          months.add(lastMonthStart);
        }
      }
    }
    await this.ensurePartitions([...months]);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store.transaction((tx) => this.upsert(tx, seriesId, ts, value, seq, order, rows));
      } catch (err) {
        // two persistors touching the same keys in one instant: PostgreSQL picks a victim; try again
        if ((err as { code?: string }).code !== DEADLOCK || attempt >= COMMIT_ATTEMPTS) throw err;
      }
    }
  }

  private async upsert(
    tx: StoreTx,
    seriesId: Int32Array,
    ts: Float64Array,
    value: Float64Array,
    seq: Float64Array,
    order: Float64Array,
    rows: number,
  ): Promise<void> {
    // seq: the row's place in this commit; ord: the bus's order of the message that carried it
    await tx.run(
      `CREATE TEMP TABLE IF NOT EXISTS readings_staging (series_id INTEGER, ts BIGINT, value DOUBLE PRECISION, seq BIGINT, ord BIGINT) ON COMMIT DELETE ROWS`,
    );
    await tx.bulkAppend(
      'readings_staging',
      [
        { type: 'int32', values: seriesId },
        { type: 'int64', values: ts },
        { type: 'float64', values: value },
        { type: 'int64', values: seq },
        { type: 'int64', values: order },
      ],
      rows,
    );
    // Lock the batch's series rows, in id order: a commit touching the same series waits for this
    // one, so its own statement (a fresh snapshot) sees these rows, and counts stay exact. No deadlocks.
    await tx.run(`SELECT id FROM series WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [
      [...new Set(seriesId)].map(String),
    ]);
    await tx.run(
      `WITH latest AS (
         SELECT DISTINCT ON (series_id, ts) series_id, ts, value, ord FROM readings_staging
         ORDER BY series_id, ts, ord DESC, seq DESC
       ), inserted AS (
         -- new keys (the usual case): one index probe each, and RETURNING tells which they were
         INSERT INTO readings (series_id, ts, value, seq) SELECT series_id, ts, value, ord FROM latest
         ON CONFLICT (series_id, ts) DO NOTHING
         RETURNING series_id, ts, value
       ), replaced AS (
         -- keys that were already stored get the new value (resent or corrected readings), unless
         -- a later message wrote them already (another persistor committed it first)
         UPDATE readings r SET value = l.value, seq = l.ord
         FROM (SELECT series_id, ts, value, ord FROM latest EXCEPT ALL SELECT l.series_id, l.ts, l.value, l.ord FROM latest l JOIN inserted i USING (series_id, ts)) AS l
         WHERE r.series_id = l.series_id AND r.ts = l.ts AND r.seq <= l.ord
         RETURNING r.series_id, r.ts, r.value
       ), written AS (
         SELECT * FROM inserted UNION ALL SELECT * FROM replaced
       ), marked AS (
         -- the hours this commit changed: their rollups are recomputed (rollups.ts)
         ${MARK_WRITTEN_HOURS_SQL}
       ), added AS (
         SELECT series_id, count(*) AS n FROM inserted GROUP BY series_id
       ), per_series AS (
         SELECT series_id, min(ts) AS first_ts, max(ts) AS last_ts, (array_agg(value ORDER BY ts DESC))[1] AS last_value
         FROM written GROUP BY series_id
       ), updated AS (
         UPDATE series SET
           count = series.count + coalesce(a.n, 0),
           first_ts = least(series.first_ts, p.first_ts),
           last_ts = greatest(series.last_ts, p.last_ts),
           last_value = CASE WHEN series.last_ts IS NULL OR p.last_ts >= series.last_ts THEN p.last_value ELSE series.last_value END
         FROM per_series AS p LEFT JOIN added AS a ON a.series_id = p.series_id
         WHERE series.id = p.series_id
       )
       SELECT count(*) FROM per_series`,
    );
  }

  /** Series ids by key, creating the series that do not exist yet (several processes may race). */
  private async resolveIds(keys: string[]): Promise<Map<string, number>> {
    const missing = keys.filter((k) => !this.ids.has(k));
    if (missing.length) {
      await this.store.query(`INSERT INTO series (key) SELECT unnest($1::text[]) ON CONFLICT (key) DO NOTHING`, [
        missing,
      ]);
      for (const r of await this.store.query<{ id: number; key: string }>(
        `SELECT id, key FROM series WHERE key = ANY($1)`,
        [missing],
      )) {
        this.ids.set(r.key, r.id);
      }
    }
    return this.ids;
  }

  private async ensurePartitions(months: number[]) {
    for (const month of months) {
      if (this.partitions.has(month)) continue;
      await this.store.transaction(async (tx) => {
        // one creator at a time across processes: CREATE ... IF NOT EXISTS alone still races
        await tx.run(`SELECT pg_advisory_xact_lock(hashtext('wattline_readings_partitions'))`);
        await tx.run(
          `CREATE TABLE IF NOT EXISTS ${partitionName(month)} PARTITION OF readings FOR VALUES FROM (${month}) TO (${monthStart(month, 1)})`,
        );
      });
      this.partitions.add(month);
    }
  }
}
