import type { Store } from '../../core/store/index.js';

/** SQL for the sources module's own table: bootstrap checkpoints. */

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
