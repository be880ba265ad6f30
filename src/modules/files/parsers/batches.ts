import { type ReadingBatch, ReadingBatchBuilder } from '../../../core/readings.js';
import type { ParsedSeries } from './types.js';

const DEFAULT_BATCH_ROWS = 10_000;

/**
 * Collects a file's readings into full `ReadingBatch`es (typed arrays: 20 bytes a reading, so a
 * 50 MB file is ~10 MB of batches rather than half a million objects), and the series they belong
 * to. Each batch names the unit and kind of its series in `meta`.
 */
export class BatchCollector {
  readonly batches: ReadingBatch[] = [];
  private readonly builder: ReadingBatchBuilder;
  private readonly series = new Map<string, ParsedSeries>();

  constructor(batchRows = DEFAULT_BATCH_ROWS) {
    if (!Number.isInteger(batchRows) || batchRows < 1)
      throw new RangeError(`batchRows must be a whole number of at least 1 (got ${batchRows})`);
    this.builder = new ReadingBatchBuilder(batchRows);
  }

  /** The series of `key`, if added. */
  get(key: string): ParsedSeries | undefined {
    return this.series.get(key);
  }

  /** Declares a series before its first reading (once per key). */
  addSeries(series: ParsedSeries): void {
    this.series.set(series.key, series);
  }

  /** One reading of a series already added. */
  push(key: string, ts: number, value: number): void {
    const builder = this.builder;
    let id = builder.keyId(key);
    if (id === undefined) {
      id = builder.addKey(key);
      const series = this.series.get(key)!;
      builder.setMeta(id, series.unit === null ? { kind: series.kind } : { unit: series.unit, kind: series.kind });
    }
    builder.push(id, ts, value);
    if (builder.full) this.batches.push(builder.take());
  }

  /** The batches (the last one partial) and every series, in the order they were added. */
  finish(): { batches: ReadingBatch[]; series: ParsedSeries[] } {
    if (this.builder.length > 0) this.batches.push(this.builder.take(false));
    return { batches: this.batches, series: [...this.series.values()] };
  }
}
