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
   * What each key's lines said of their series (`meta[k]` for `keys[k]`; null when they said
   * nothing). Absent when no line did, which is the usual case.
   */
  meta?: (SeriesMeta | null)[];
  /**
   * The bus's order for the message that carried the batch (`MessageMeta.order`), set by the
   * persistor's consumer: where several persistors commit out of order, the larger one wins.
   */
  order?: number;
}

/**
 * What a series holds: `gauge` an instantaneous value (W, V, °C…), `counter` a cumulative meter
 * reading (kWh since install, may reset), `interval` the energy of each interval (half-hourly kWh).
 */
export const SERIES_KINDS = ['gauge', 'counter', 'interval'] as const;
export type SeriesKind = (typeof SERIES_KINDS)[number];

/** What an ingest line may say of its series besides the reading: its unit and kind, and tags (line protocol's). */
export interface SeriesMeta {
  unit?: string;
  kind?: string;
  /** Merged into the series' tags in the catalog (a later value for a tag key wins). */
  tags?: Record<string, string>;
}

export const READINGS_TOPIC = 'readings';
/** Broadcast after each commit: the batches just stored (live updates, cache invalidation). */
export const READINGS_LIVE_TOPIC = 'readings.live';

/** Series keys: what every adapter must produce, and what queries accept. */
export const SERIES_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$/;

/** Collects readings into a `ReadingBatch` of fixed capacity. */
export class ReadingBatchBuilder {
  private keys: string[] = [];
  private meta: (SeriesMeta | null)[] | undefined;
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

  /** Records what a line said of its series (for each field, the last one given wins). */
  setMeta(keyId: number, meta: SeriesMeta) {
    this.meta ??= [];
    for (let k = this.meta.length; k < this.keys.length; k++) this.meta.push(null);
    this.meta[keyId] = { ...this.meta[keyId], ...meta };
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

  /** Hands out the batch and starts a fresh one (none when `another` is false: the builder is done). */
  take(another = true): ReadingBatch {
    const batch: ReadingBatch = {
      keys: this.keys,
      keyIndex: this.keyIndex.subarray(0, this.length),
      ts: this.ts.subarray(0, this.length),
      value: this.value.subarray(0, this.length),
      length: this.length,
    };
    if (this.meta) {
      for (let k = this.meta.length; k < this.keys.length; k++) this.meta.push(null);
      batch.meta = this.meta;
      this.meta = undefined;
    }
    this.keys = [];
    this.keyIds = new Map();
    const capacity = another ? this.capacity : 0;
    this.keyIndex = new Int32Array(capacity);
    this.ts = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
    this.length = 0;
    return batch;
  }
}
