/** The one reading model every adapter produces. `ts` is UTC epoch milliseconds. */
export interface Reading {
  series: string;
  ts: number;
  value: number;
}

/**
 * Readings in columnar form, as they travel on the bus: series keys are dictionary-encoded so a
 * batch of 10,000 rows over 3 series carries 3 strings, and the persistor resolves each key once.
 */
export interface ReadingBatch {
  keys: string[];
  keyIndex: Int32Array;
  ts: Float64Array;
  value: Float64Array;
  length: number;
  /**
   * The unit each key's readings were sent with (`units[k]` for `keys[k]`; null when that key's
   * lines named none). Absent when no line named one, which is the usual case.
   */
  units?: (string | null)[];
}

export const READINGS_TOPIC = 'readings';
/** Broadcast after each commit: the batches just stored (live updates, cache invalidation). */
export const READINGS_LIVE_TOPIC = 'readings.live';

/** Series keys: what every adapter must produce, and what queries accept. */
export const SERIES_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$/;

/** Collects readings into a `ReadingBatch` of fixed capacity. */
export class ReadingBatchBuilder {
  private keys: string[] = [];
  private units: (string | null)[] | undefined;
  private keyIds = new Map<string, number>();
  private keyIndex: Int32Array;
  private ts: Float64Array;
  private value: Float64Array;
  length = 0;

  constructor(readonly capacity: number) {
    this.keyIndex = new Int32Array(capacity);
    this.ts = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Index of a series key in this batch, or undefined if the batch has not seen it yet. */
  keyId(series: string): number | undefined {
    return this.keyIds.get(series);
  }

  addKey(series: string): number {
    const id = this.keys.length;
    this.keys.push(series);
    this.keyIds.set(series, id);
    return id;
  }

  /** Records the unit a key's readings came with (the last one given wins). */
  setUnit(keyId: number, unit: string) {
    this.units ??= [];
    for (let k = this.units.length; k < this.keys.length; k++) this.units.push(null);
    this.units[keyId] = unit;
  }

  push(keyId: number, ts: number, value: number) {
    const i = this.length++;
    this.keyIndex[i] = keyId;
    this.ts[i] = ts;
    this.value[i] = value;
  }

  add(reading: Reading) {
    this.push(this.keyId(reading.series) ?? this.addKey(reading.series), reading.ts, reading.value);
  }

  /** Hands out the batch and starts a fresh one. */
  take(): ReadingBatch {
    const batch: ReadingBatch = {
      keys: this.keys,
      keyIndex: this.keyIndex.subarray(0, this.length),
      ts: this.ts.subarray(0, this.length),
      value: this.value.subarray(0, this.length),
      length: this.length,
    };
    if (this.units) {
      for (let k = this.units.length; k < this.keys.length; k++) this.units.push(null);
      batch.units = this.units;
      this.units = undefined;
    }
    this.keys = [];
    this.keyIds = new Map();
    this.keyIndex = new Int32Array(this.capacity);
    this.ts = new Float64Array(this.capacity);
    this.value = new Float64Array(this.capacity);
    this.length = 0;
    return batch;
  }
}
