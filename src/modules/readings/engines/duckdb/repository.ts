import type { Store, StoreTx } from '../../../../core/store/index.js';
import type { PartitionState } from './partitions.js';

/** SQL for the readings module's own tables: series, readings, reading_partitions, readings_meta. */

import { DAY_MS } from '../../../../core/time/timestamps.js';

interface StatsRow {
  id: number;
  key: string;
  unit: string | null;
  kind: string;
  intervalS: number | null;
  description: string | null;
  tags: string | null;
  count: number;
  firstTs: number | null;
  lastTs: number | null;
  lastValue: number | null;
}

export async function loadCatalogRows(store: Store) {
  const rows = await store.query<StatsRow>(
    `SELECT id, key, unit, kind, interval_s AS "intervalS", description, tags, count, first_ts AS "firstTs", last_ts AS "lastTs", last_value AS "lastValue" FROM series`,
  );
  const [meta] = await store.query<{ stats_seq: number }>(`SELECT stats_seq FROM readings_meta`);
  return { rows, statsSeq: meta?.stats_seq ?? 0 };
}

/** Per-series stats of the readings appended after `seq` (start-up recovery; seq is zone-mapped). */
export function loadStatsSince(store: Store, seq: number) {
  return store.query<{ id: number; count: number; firstTs: number; lastTs: number; lastValue: number; maxSeq: number }>(
    `SELECT series_id AS id, count(*) AS count, min(ts) AS "firstTs", max(ts) AS "lastTs",
            arg_max(value, [ts, seq]) AS "lastValue", max(seq) AS "maxSeq"
     FROM readings WHERE seq > $1 GROUP BY series_id`,
    [seq],
  );
}

export async function loadWriteState(store: Store) {
  // past the stats' watermark too: compaction sets counted rows' seq to 0, so the highest seq stored
  // may be below it, and a row numbered at or below it would be missed by start-up's fold-in
  const [seq] = await store.query<{ next_seq: number }>(
    `SELECT greatest(coalesce((SELECT max(seq) FROM readings), 0), coalesce((SELECT max(stats_seq) FROM readings_meta), 0)) + 1 AS next_seq`,
  );
  const partitions = await store.query<{ day: number; state: PartitionState }>(
    `SELECT day, state FROM reading_partitions`,
  );
  return { nextSeq: seq.next_seq, partitions };
}

/** New series rows; their stats follow with the next save. */
export async function insertSeries(tx: StoreTx, rows: readonly { id: number; key: string }[]) {
  if (!rows.length) return;
  const params = rows.flatMap((r) => [r.id, r.key]);
  await tx.run(
    `INSERT INTO series (id, key) VALUES ${rows.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')}`,
    params,
  );
}

const finiteOrNull = (n: number) => (Number.isFinite(n) ? String(n) : 'NULL');

/** Writes series stats and the seq they are complete up to. */
export async function saveSeriesStats(
  tx: StoreTx,
  rows: readonly { id: number; count: number; firstTs: number; lastTs: number; lastValue: number }[],
  statsSeq: number,
) {
  // numbers only, produced here: inlined, since binding thousands of parameters costs more than the update
  for (let i = 0; i < rows.length; i += 1000) {
    const values = rows
      .slice(i, i + 1000)
      .map(
        (r) =>
          `(${r.id}, ${r.count}, ${finiteOrNull(r.firstTs)}, ${finiteOrNull(r.lastTs)}, ${finiteOrNull(r.lastValue)})`,
      );
    await tx.run(
      `UPDATE series SET count = v.n, first_ts = v.first_ts, last_ts = v.last_ts, last_value = v.last_value
       FROM (VALUES ${values.join(', ')}) AS v(id, n, first_ts, last_ts, last_value)
       WHERE series.id = v.id`,
    );
  }
  await tx.run(`UPDATE readings_meta SET stats_seq = $1`, [statsSeq]);
}

export async function savePartitionStates(tx: StoreTx, states: ReadonlyMap<number, PartitionState>) {
  if (!states.size) return;
  const values = [...states].map(([day, state]) => `(${day}, '${state}')`);
  await tx.run(
    `INSERT INTO reading_partitions (day, state) VALUES ${values.join(', ')} ON CONFLICT (day) DO UPDATE SET state = excluded.state`,
  );
}

/** Part of a day compacted on its own: series `firstSeries`..`lastSeries`, times [fromTs, toTs). */
export interface CompactionSlice {
  firstSeries: number;
  lastSeries: number;
  fromTs: number;
  toTs: number;
}

/**
 * Cuts a day into slices of about `sliceRows` rows, given its rows per series in series order:
 * consecutive series packed together, and a series with more rows than that on its own, its day cut
 * into equal spans of time. Slices in order cover the day in (series, ts) order, so writing them one
 * after the other gives the same rows in the same order as sorting the whole day at once.
 */
export function planSlices(
  rowsPerSeries: readonly { seriesId: number; rows: number }[],
  day: number,
  sliceRows: number,
): CompactionSlice[] {
  return planSlicesIn(rowsPerSeries, day * DAY_MS, (day + 1) * DAY_MS, sliceRows);
}

/** `planSlices` over any span of time [lo, hi) (a month, to cluster it). */
export function planSlicesIn(
  rowsPerSeries: readonly { seriesId: number; rows: number }[],
  lo: number,
  hi: number,
  sliceRows: number,
): CompactionSlice[] {
  const slices: CompactionSlice[] = [];
  let open: { first: number; last: number; rows: number } | undefined;
  const close = () => {
    if (open) slices.push({ firstSeries: open.first, lastSeries: open.last, fromTs: lo, toTs: hi });
    open = undefined;
  };
  for (const { seriesId, rows } of rowsPerSeries) {
    if (rows > sliceRows) {
      close();
      const step = Math.ceil((hi - lo) / Math.ceil(rows / sliceRows));
      for (let from = lo; from < hi; from += step)
        slices.push({ firstSeries: seriesId, lastSeries: seriesId, fromTs: from, toTs: Math.min(hi, from + step) });
      continue;
    }
    if (open && open.rows + rows > sliceRows) close();
    open ??= { first: seriesId, last: seriesId, rows: 0 };
    open.last = seriesId;
    open.rows += rows;
  }
  close();
  return slices;
}

/** Rows per series stored for a day, in series order: what `planSlices` divides. */
export function rowsPerSeries(store: Store, day: number) {
  return rowsPerSeriesIn(store, day * DAY_MS, (day + 1) * DAY_MS);
}

/** Rows per series stored in [lo, hi), in series order: what `planSlicesIn` divides. */
export function rowsPerSeriesIn(store: Store, lo: number, hi: number) {
  return store.query<{ seriesId: number; rows: number }>(
    `SELECT series_id AS "seriesId", count(*) AS "rows" FROM readings
     WHERE ts >= $1 AND ts < $2 GROUP BY series_id ORDER BY series_id`,
    [lo, hi],
  );
}

/**
 * Rewrites one slice of a day sorted by (series, ts), one row per (series, ts): the highest seq
 * wins. Returns, per series, the rows the catalog had counted (seq ≤ `statsSeq`) that were
 * duplicates, and takes them off the stored counts in the same transaction.
 */
export async function compactSlice(
  tx: StoreTx,
  slice: CompactionSlice,
  statsSeq: number,
): Promise<Map<number, number>> {
  const inSlice = 'series_id BETWEEN $1 AND $2 AND ts >= $3 AND ts < $4';
  const bounds = [slice.firstSeries, slice.lastSeries, slice.fromTs, slice.toTs];
  const before = await tx.query<{ seriesId: number; counted: number }>(
    `SELECT series_id AS "seriesId", count(*) FILTER (WHERE seq <= $5) AS counted
     FROM readings WHERE ${inSlice} GROUP BY series_id`,
    [...bounds, statsSeq],
  );
  await tx.run(
    `CREATE OR REPLACE TEMP TABLE compacting AS
       SELECT series_id, ts, arg_max(value, seq) AS value, max(seq) AS seq
       FROM readings WHERE ${inSlice}
       GROUP BY series_id, ts`,
    bounds,
  );
  const after = await tx.query<{ seriesId: number; kept: number }>(
    `SELECT series_id AS "seriesId", count(*) AS kept FROM compacting WHERE seq <= $1 GROUP BY series_id`,
    [statsSeq],
  );
  await tx.run(`DELETE FROM readings WHERE ${inSlice}`, bounds);
  // A kept row's seq only has to order it before later writes, which all have higher ones: rows the
  // stored stats already count get 0, a constant DuckDB stores in no space (3.5 bytes a reading
  // otherwise), and start-up's scan for rows newer than the stats skips them by zone map. Rows newer
  // than the stats keep theirs, so start-up still folds them in.
  await tx.run(
    `INSERT INTO readings SELECT series_id, ts, value, CASE WHEN seq <= $1 THEN 0 ELSE seq END
     FROM compacting ORDER BY series_id, ts`,
    [statsSeq],
  );
  await tx.run(`DROP TABLE compacting`);
  const kept = new Map(after.map((r) => [r.seriesId, r.kept]));
  const removed = new Map<number, number>();
  for (const r of before) {
    const n = r.counted - (kept.get(r.seriesId) ?? 0);
    if (n > 0) removed.set(r.seriesId, n);
  }
  if (removed.size) {
    const values = [...removed].map(([id, n]) => `(${id}, ${n})`);
    await tx.run(
      `UPDATE series SET count = series.count - v.n FROM (VALUES ${values.join(', ')}) AS v(id, n) WHERE series.id = v.id`,
    );
  }
  return removed;
}
