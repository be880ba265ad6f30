import type { NumericChunk, Store } from '../../../core/store/index.js';
import type { EnergySpans, ReadingColumns } from '../plan.js';

/** A streamed chunk of `SELECT series_id, ts, value …` as reading columns (no copy). */
export function asReadingColumns(chunk: NumericChunk): ReadingColumns {
  const [seriesId, ts, value] = chunk.columns;
  return { length: chunk.length, seriesId, ts, value };
}

/**
 * The whole answer of `SELECT series_id, ts, value …`, read in columnar chunks and joined: no
 * object is made per row.
 */
export async function readColumns(store: Store, sql: string, params?: readonly string[]): Promise<ReadingColumns> {
  const chunks: NumericChunk[] = [];
  let length = 0;
  for await (const chunk of store.streamNumbers(sql, params)) {
    chunks.push(chunk);
    length += chunk.length;
  }
  if (chunks.length === 1) return asReadingColumns(chunks[0]);
  const out: ReadingColumns = {
    length,
    seriesId: new Float64Array(length),
    ts: new Float64Array(length),
    value: new Float64Array(length),
  };
  let offset = 0;
  for (const chunk of chunks) {
    const c = asReadingColumns(chunk);
    out.seriesId.set(c.seriesId, offset);
    out.ts.set(c.ts, offset);
    out.value.set(c.value, offset);
    offset += c.length;
  }
  return out;
}

/** Rows of `SELECT series_id, ts, value …` read as objects (one round trip), as reading columns. */
export function rowsAsColumns(rows: readonly { series_id: number; ts: number; value: number }[]): ReadingColumns {
  const out: ReadingColumns = {
    length: rows.length,
    seriesId: new Float64Array(rows.length),
    ts: new Float64Array(rows.length),
    value: new Float64Array(rows.length),
  };
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out.seriesId[i] = r.series_id;
    out.ts[i] = r.ts;
    out.value[i] = r.value;
  }
  return out;
}

/** The whole answer of energySpansSql (standard-sql.ts), read in columnar chunks and joined. */
export async function readEnergySpans(store: Store, sql: string, params?: readonly string[]): Promise<EnergySpans> {
  const chunks: NumericChunk[] = [];
  let length = 0;
  for await (const chunk of store.streamNumbers(sql, params)) {
    chunks.push(chunk);
    length += chunk.length;
  }
  const columns = Array.from({ length: 7 }, () => new Float64Array(length));
  let offset = 0;
  for (const chunk of chunks) {
    for (let c = 0; c < 7; c++) columns[c].set(chunk.columns[c], offset);
    offset += chunk.length;
  }
  const [seriesId, inner, t, x, t0, v0, v1] = columns;
  return { length, seriesId, inner, t, x, t0, v0, v1 };
}
