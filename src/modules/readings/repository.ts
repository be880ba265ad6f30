import type { Store, StoreTx } from '../../core/store/index.js';
import type { PartitionState } from './partitions.js';

/** SQL for the readings module's own tables (series, readings, reading_partitions). */

export const DAY_MS = 86_400_000;

export type SeriesRow = {
  id: number;
  key: string;
  unit: string | null;
  kind: string;
  first_ts: number | null;
  last_ts: number | null;
  last_value: number | null;
  count: number;
};

export interface SeriesStats {
  id: number;
  key: string;
  count: number;
  firstTs: number;
  lastTs: number;
  lastValue: number;
}

export function listSeries(store: Store, keys?: readonly string[]): Promise<SeriesRow[]> {
  if (keys && keys.length === 0) return Promise.resolve([]);
  const where = keys ? `WHERE key IN (${keys.map((_, i) => `$${i + 1}`).join(', ')})` : '';
  return store.query<SeriesRow>(`SELECT id, key, unit, kind, first_ts, last_ts, last_value, count FROM series ${where} ORDER BY key`, keys ?? []);
}

export async function loadWriteState(store: Store) {
  const [seq] = await store.query<{ next_seq: number }>(`SELECT coalesce(max(seq), 0) + 1 AS next_seq FROM readings`);
  const series = await store.query<{ id: number; key: string; last_ts: number | null }>(`SELECT id, key, last_ts FROM series`);
  const partitions = await store.query<{ day: number; state: PartitionState }>(`SELECT day, state FROM reading_partitions`);
  return { nextSeq: seq.next_seq, series, partitions };
}

export async function insertSeries(tx: StoreTx, rows: readonly SeriesStats[]) {
  if (!rows.length) return;
  const params: (string | number)[] = [];
  const values = rows.map((r) => {
    params.push(r.id, r.key, r.count, r.firstTs, r.lastTs, r.lastValue);
    const b = params.length - 5;
    return `($${b}, $${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`;
  });
  await tx.run(`INSERT INTO series (id, key, count, first_ts, last_ts, last_value) VALUES ${values.join(', ')}`, params);
}

export async function updateSeriesStats(tx: StoreTx, rows: readonly SeriesStats[]) {
  if (!rows.length) return;
  const params: number[] = [];
  const values = rows.map((r) => {
    params.push(r.id, r.count, r.firstTs, r.lastTs, r.lastValue);
    const b = params.length - 4;
    return `($${b}::INTEGER, $${b + 1}::BIGINT, $${b + 2}::BIGINT, $${b + 3}::BIGINT, $${b + 4}::DOUBLE)`;
  });
  // a batch's last value replaces the stored one when it is at least as late (same ts: the later write wins)
  await tx.run(
    `UPDATE series SET
       count = series.count + v.n,
       first_ts = least(series.first_ts, v.first_ts),
       last_ts = greatest(series.last_ts, v.last_ts),
       last_value = CASE WHEN series.last_ts IS NULL OR v.last_ts >= series.last_ts THEN v.last_value ELSE series.last_value END
     FROM (VALUES ${values.join(', ')}) AS v(id, n, first_ts, last_ts, last_value)
     WHERE series.id = v.id`,
    params,
  );
}

export async function savePartitionStates(tx: StoreTx, states: ReadonlyMap<number, PartitionState>) {
  if (!states.size) return;
  const params: (string | number)[] = [];
  const values = [...states].map(([day, state]) => {
    params.push(day, state);
    return `($${params.length - 1}, $${params.length})`;
  });
  await tx.run(
    `INSERT INTO reading_partitions (day, state) VALUES ${values.join(', ')} ON CONFLICT (day) DO UPDATE SET state = excluded.state`,
    params,
  );
}

/**
 * Rewrites one day sorted by (series, ts) with one row per (series, ts): the highest `seq` wins.
 * Series counts are recounted when the day may have held duplicates.
 */
export async function compactPartition(tx: StoreTx, day: number, recount: boolean) {
  const lo = day * DAY_MS;
  const hi = lo + DAY_MS;
  await tx.run(
    `CREATE OR REPLACE TEMP TABLE compacting AS
       SELECT series_id, ts, arg_max(value, seq) AS value, max(seq) AS seq
       FROM readings WHERE ts >= $1 AND ts < $2
       GROUP BY series_id, ts ORDER BY series_id, ts`,
    [lo, hi],
  );
  await tx.run(`DELETE FROM readings WHERE ts >= $1 AND ts < $2`, [lo, hi]);
  await tx.run(`INSERT INTO readings SELECT series_id, ts, value, seq FROM compacting ORDER BY series_id, ts`);
  if (recount) {
    await tx.run(
      `UPDATE series SET count = c.n
       FROM (SELECT series_id, count(*) AS n FROM readings
             WHERE series_id IN (SELECT DISTINCT series_id FROM compacting) GROUP BY series_id) AS c
       WHERE series.id = c.series_id`,
    );
  }
  await tx.run(`DROP TABLE compacting`);
  await tx.run(`UPDATE reading_partitions SET state = 'sorted' WHERE day = $1`, [day]);
}
