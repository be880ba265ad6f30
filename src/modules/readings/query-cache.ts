import { LRUCache } from 'lru-cache';

interface Entry<T> {
  series: readonly string[];
  startMs: number;
  endMs: number;
  value: T;
}

/** What a commit touched of one series. */
export interface TouchedRange {
  series: string;
  minTs: number;
  maxTs: number;
}

/**
 * LRU cache of query answers that never serves an answer after new data landed in its range:
 * every commit notice (from any persistor, through the bus) drops the entries whose series and
 * time range it touched, and an answer computed while such a notice arrived is not stored at all.
 * Entries also expire after `ttlMs`, a bound on staleness should a notice from another process
 * be lost (NATS core delivery is at most once).
 */
export class QueryCache<T> {
  private readonly lru: LRUCache<string, Entry<T>> | undefined;
  private readonly keysBySeries = new Map<string, Set<string>>();
  private readonly lastWriteGeneration = new Map<string, number>();
  private generation = 0;

  /** `now` (milliseconds) measures the TTL; tests pass a clock they move. */
  constructor(size: number, ttlMs: number, options: { now?: () => number } = {}) {
    if (size > 0) {
      this.lru = new LRUCache<string, Entry<T>>({
        max: size,
        ...(ttlMs > 0 ? { ttl: ttlMs } : {}),
        ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
        dispose: (entry, key) => {
          for (const s of entry.series) this.keysBySeries.get(s)?.delete(key);
        },
      });
    }
  }

  get(key: string): T | undefined {
    return this.lru?.get(key)?.value;
  }

  /** A token to pass to `set`, taken before the store is read. */
  begin(): number {
    return this.generation;
  }

  set(key: string, token: number, series: readonly string[], startMs: number, endMs: number, value: T) {
    if (!this.lru) return;
    if (series.some((s) => (this.lastWriteGeneration.get(s) ?? -1) >= token)) return;
    this.lru.set(key, { series, startMs, endMs, value });
    for (const s of series) {
      let keys = this.keysBySeries.get(s);
      if (!keys) this.keysBySeries.set(s, (keys = new Set()));
      keys.add(key);
    }
  }

  invalidate(ranges: Iterable<TouchedRange>) {
    if (!this.lru) return;
    const generation = this.generation++;
    for (const r of ranges) {
      this.lastWriteGeneration.set(r.series, generation);
      for (const key of [...(this.keysBySeries.get(r.series) ?? [])]) {
        const entry = this.lru.peek(key);
        if (entry && entry.startMs <= r.maxTs && r.minTs <= entry.endMs) this.lru.delete(key);
      }
    }
  }
}
