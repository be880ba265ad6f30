import type { ReadingBatch } from '../../../../core/readings.js';
import type { SeriesCatalog, SeriesDelta } from './catalog.js';
import { DAY_MS } from '../../../../core/time/timestamps.js';

/** One commit, worked out before its transaction: the columns to append and what they change. */
export interface PreparedWrite {
  rows: number;
  seriesId: Int32Array;
  /** The batch's own arrays when the commit is one batch (nothing copied), else the batches' rows joined. */
  ts: Float64Array;
  value: Float64Array;
  /** The seq of the first row; the rest follow one by one. */
  firstSeq: number;
  /** Series this commit creates (first seen here, with rows). */
  created: { id: number; key: string }[];
  /** Per series id, what this commit adds to its stats. */
  deltas: Map<number, SeriesDelta>;
  /** Each UTC day written to, and whether this commit may have put a duplicate (series, ts) in it. */
  touchedDays: Map<number, boolean>;
  /** The seq of the commit's last row. */
  lastSeq: number;
}

/** Per key of one batch (a batch's keys are a small dictionary): scratch arrays, no Map work per row. */
interface KeyScratch {
  ids: Int32Array;
  /** Latest time stored or seen so far for the key's series: a row later than it cannot be a duplicate. */
  last: Float64Array;
  count: Int32Array;
  first: Float64Array;
  latest: Float64Array;
  latestValue: Float64Array;
}

/**
 * Lays out a commit's rows as columns, numbering them from `firstSeq` (and new series from
 * `nextSeriesId()`), and collects per-series stats and the days touched. Nothing is written here.
 */
export function prepareWrite(
  batches: readonly ReadingBatch[],
  rows: number,
  options: { catalog: SeriesCatalog; firstSeq: number; nextSeriesId: () => number },
): PreparedWrite {
  // one batch (a big file, a single request): its times and values are appended as they are
  const only = batches.length === 1 && batches[0].length === rows ? batches[0] : undefined;
  const out: PreparedWrite = {
    rows,
    seriesId: new Int32Array(rows),
    ts: only ? only.ts.subarray(0, rows) : new Float64Array(rows),
    value: only ? only.value.subarray(0, rows) : new Float64Array(rows),
    firstSeq: options.firstSeq,
    created: [],
    deltas: new Map(),
    touchedDays: new Map(),
    lastSeq: options.firstSeq - 1,
  };
  const newSeries = new Map<string, number>();
  // last ts per series within this commit, carried from batch to batch
  const lastTs = new Map<number, number>();
  let row = 0;
  for (const batch of batches) {
    const scratch = resolveKeys(batch, options, newSeries, lastTs);
    copyRows(batch, scratch, out, row, only !== undefined);
    row += batch.length;
    foldKeyStats(scratch, out.deltas, lastTs);
  }
  out.created = [...newSeries].filter(([, id]) => out.deltas.has(id)).map(([key, id]) => ({ id, key }));
  return out;
}

/** The series id of each key of `batch` (numbering series not seen before) and its latest time so far. */
function resolveKeys(
  batch: ReadingBatch,
  options: { catalog: SeriesCatalog; nextSeriesId: () => number },
  newSeries: Map<string, number>,
  lastTs: ReadonlyMap<number, number>,
): KeyScratch {
  const { catalog } = options;
  const keyCount = batch.keys.length;
  const scratch: KeyScratch = {
    ids: new Int32Array(keyCount),
    last: new Float64Array(keyCount),
    count: new Int32Array(keyCount),
    first: new Float64Array(keyCount).fill(Infinity),
    latest: new Float64Array(keyCount).fill(-Infinity),
    latestValue: new Float64Array(keyCount),
  };
  batch.keys.forEach((key, k) => {
    let id = catalog.get(key)?.id ?? newSeries.get(key);
    if (id === undefined) newSeries.set(key, (id = options.nextSeriesId()));
    scratch.ids[k] = id;
    scratch.last[k] = lastTs.get(id) ?? catalog.byId(id)?.lastTs ?? -Infinity;
  });
  return scratch;
}

/**
 * Copies a batch's rows into the commit's columns from `offset` (times and values only when
 * `inPlace` is false). A row not later than its series' latest time may duplicate a stored
 * (series, ts): its day is marked so.
 */
function copyRows(batch: ReadingBatch, scratch: KeyScratch, out: PreparedWrite, offset: number, inPlace: boolean) {
  const { ids, last, count, first, latest, latestValue } = scratch;
  const { keyIndex, ts: batchTs, value: batchValue } = batch;
  const { touchedDays } = out;
  let row = offset;
  // rows come mostly in time order: the day's flag is folded in when the day changes, not per row
  let prevDay = NaN;
  let dayHasDuplicate = false;
  for (let i = 0; i < batch.length; i++, row++) {
    const k = keyIndex[i];
    const t = batchTs[i];
    const v = batchValue[i];
    out.seriesId[row] = ids[k];
    if (!inPlace) {
      out.ts[row] = t;
      out.value[row] = v;
    }
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
  out.lastSeq += batch.length;
}

/** Adds one batch's per-key stats to the commit's per-series deltas. */
function foldKeyStats(scratch: KeyScratch, deltas: Map<number, SeriesDelta>, lastTs: Map<number, number>) {
  const { ids, last, count, first, latest, latestValue } = scratch;
  for (let k = 0; k < ids.length; k++) {
    if (count[k] === 0) continue;
    const id = ids[k];
    lastTs.set(id, last[k]);
    const d = deltas.get(id);
    if (!d) {
      deltas.set(id, { id, count: count[k], firstTs: first[k], lastTs: latest[k], lastValue: latestValue[k] });
      continue;
    }
    d.count += count[k];
    if (first[k] < d.firstTs) d.firstTs = first[k];
    // a later batch in this commit is the later write
    if (latest[k] >= d.lastTs) {
      d.lastTs = latest[k];
      d.lastValue = latestValue[k];
    }
  }
}
