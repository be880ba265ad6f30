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

/** How a `QueryCache` is bounded. */
export interface QueryCacheOptions<T> {
  /** Most answers kept (0 turns the cache off). */
  maxEntries: number;
  /** Most bytes kept in all, as `sizeOf` counts them; the least recently used answers go first. */
  maxBytes: number;
  /** An answer larger than this is returned but not kept. */
  maxEntryBytes: number;
  /** Answers older than this are dropped (0: no limit). */
  ttlMs: number;
  /** The memory an answer holds, in bytes (an estimate; it must be at least 1). */
  sizeOf: (value: T) => number;
  /** Milliseconds for the TTL; tests pass a clock they move. */
  now?: () => number;
}

/**
 * LRU cache of query answers that never serves an answer after new data landed in its range:
 * every commit notice (from any persistor, through the bus) drops the entries whose series and
 * time range it touched, and an answer computed while such a notice arrived is not stored at all.
 * Entries also expire after `ttlMs`, a bound on staleness should a notice from another process
 * be lost (NATS core delivery is at most once). Memory is bounded by bytes, not only by count:
 * one answer can hold a million points, so a count alone let a few queries fill the heap.
 */
export class QueryCache<T> {
  private readonly lru: LRUCache<string, Entry<T>> | undefined;
  private readonly keysBySeries = new Map<string, Set<string>>();
  private readonly lastWriteGeneration = new Map<string, number>();
  private generation = 0;
  private readonly now: () => number;
  private readonly purgeEveryMs: number;
  private lastPurgeMs: number;

  constructor(options: QueryCacheOptions<T>) {
    const { maxEntries, maxBytes, maxEntryBytes, ttlMs, sizeOf } = options;
    this.now = options.now ?? (() => performance.now());
    // expired answers are swept at most this often, on a write (and by lru-cache's own timers)
    this.purgeEveryMs = ttlMs > 0 ? Math.min(ttlMs, 1000) : Infinity;
    this.lastPurgeMs = this.now();
    if (maxEntries > 0 && maxBytes > 0 && maxEntryBytes > 0) {
      this.lru = new LRUCache<string, Entry<T>>({
        max: maxEntries,
        maxSize: maxBytes,
        maxEntrySize: Math.min(maxEntryBytes, maxBytes),
        sizeCalculation: (entry) => Math.max(1, Math.ceil(sizeOf(entry.value))),
        ...(ttlMs > 0 ? { ttl: ttlMs, ttlAutopurge: true } : {}),
        ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
        dispose: (entry, key) => {
          for (const s of entry.series) {
            const keys = this.keysBySeries.get(s);
            keys?.delete(key);
            if (keys?.size === 0) this.keysBySeries.delete(s);
          }
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
    const nowMs = this.now();
    if (nowMs - this.lastPurgeMs >= this.purgeEveryMs) {
      this.lastPurgeMs = nowMs;
      this.lru.purgeStale();
    }
    if (series.some((s) => (this.lastWriteGeneration.get(s) ?? -1) >= token)) return;
    this.lru.set(key, { series, startMs, endMs, value });
    if (!this.lru.has(key)) return; // larger than maxEntryBytes: not kept
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
      const keys = this.keysBySeries.get(r.series);
      if (!keys) continue;
      for (const key of [...keys]) {
        const entry = this.lru.peek(key);
        if (entry && entry.startMs <= r.maxTs && r.minTs <= entry.endMs) this.lru.delete(key);
      }
    }
  }

  /** What the cache holds now: answers, their bytes as `sizeOf` counts them, and series indexed. */
  stats(): { entries: number; bytes: number; indexedSeries: number } {
    return {
      entries: this.lru?.size ?? 0,
      bytes: this.lru?.calculatedSize ?? 0,
      indexedSeries: this.keysBySeries.size,
    };
  }
}
