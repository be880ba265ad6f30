import type { Store } from '../../core/store/index.js';

/** SQL for the sources module's own tables: bootstrap checkpoints and each connector's last run. */

export async function finishedChunks(store: Store, source: string): Promise<Set<number>> {
  const rows = await store.query<{ from_ms: number }>(`SELECT from_ms FROM source_checkpoints WHERE source = $1`, [
    source,
  ]);
  return new Set(rows.map((r) => r.from_ms));
}

export async function markChunkDone(store: Store, source: string, fromMs: number, toMs: number, readings: number) {
  await store.transaction((tx) =>
    tx.run(
      `INSERT INTO source_checkpoints (source, from_ms, to_ms, readings) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source, from_ms) DO UPDATE SET to_ms = excluded.to_ms, readings = excluded.readings`,
      [source, fromMs, toMs, readings],
    ),
  );
}

/** The end of `source`'s latest finished chunk, or undefined before the first. */
export async function lastFinishedMs(store: Store, source: string): Promise<number | undefined> {
  const [row] = await store.query<{ to_ms: number | string | null }>(
    `SELECT max(to_ms) AS to_ms FROM source_checkpoints WHERE source = $1`,
    [source],
  );
  return row?.to_ms == null ? undefined : Number(row.to_ms);
}

/** How a connector's last run went (`source_status`); times in epoch ms, null when it has not happened. */
export interface SourceStatus {
  source: string;
  lastSuccessMs: number | null;
  lastError: string | null;
  lastErrorMs: number | null;
  nextRunMs: number | null;
}

/** Records a poll or backfill: a success keeps the last error (it says what the last outage was). */
export async function recordRun(
  store: Store,
  source: string,
  run: { atMs: number; nextRunMs: number; error?: string },
) {
  const sql =
    run.error === undefined
      ? `INSERT INTO source_status (source, last_success_ms, next_run_ms) VALUES ($1, $2, $3)
         ON CONFLICT (source) DO UPDATE SET last_success_ms = excluded.last_success_ms, next_run_ms = excluded.next_run_ms`
      : `INSERT INTO source_status (source, last_error_ms, next_run_ms, last_error) VALUES ($1, $2, $3, $4)
         ON CONFLICT (source) DO UPDATE SET last_error_ms = excluded.last_error_ms, next_run_ms = excluded.next_run_ms,
           last_error = excluded.last_error`;
  const params = [source, run.atMs, run.nextRunMs, ...(run.error === undefined ? [] : [run.error])];
  await store.transaction((tx) => tx.run(sql, params));
}

/** Every connector's recorded status, by source name. */
export async function sourceStatuses(store: Store): Promise<Map<string, SourceStatus>> {
  const rows = await store.query<Record<string, string | number | null>>(
    `SELECT source, last_success_ms, last_error, last_error_ms, next_run_ms FROM source_status`,
  );
  // PostgreSQL answers BIGINT as strings
  const ms = (v: string | number | null) => (v === null ? null : Number(v));
  return new Map(
    rows.map((r) => [
      String(r.source),
      {
        source: String(r.source),
        lastSuccessMs: ms(r.last_success_ms),
        lastError: r.last_error === null ? null : String(r.last_error),
        lastErrorMs: ms(r.last_error_ms),
        nextRunMs: ms(r.next_run_ms),
      },
    ]),
  );
}
