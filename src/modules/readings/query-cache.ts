import { LRUCache } from 'lru-cache';
import type { CommittedRange } from './storage.js';

interface Entry<T> {
  seriesIds: readonly number[];
  startMs: number;
  endMs: number;
  value: T;
}

/**
 * LRU cache of query answers that never serves an answer after new data landed in its range:
 * each commit drops the entries whose series and time range it touched, and an answer computed
 * while a commit to its series was landing is not stored at all.
 */
export class QueryCache<T> {
  private readonly lru: LRUCache<string, Entry<T>> | undefined;
  private readonly keysBySeries = new Map<number, Set<string>>();
  private readonly lastWriteGeneration = new Map<number, number>();
  private generation = 0;

  constructor(size: number) {
    if (size > 0) {
      this.lru = new LRUCache<string, Entry<T>>({
        max: size,
        dispose: (entry, key) => {
          for (const id of entry.seriesIds) this.keysBySeries.get(id)?.delete(key);
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

  set(key: string, token: number, seriesIds: readonly number[], startMs: number, endMs: number, value: T) {
    if (!this.lru) return;
    if (seriesIds.some((id) => (this.lastWriteGeneration.get(id) ?? -1) >= token)) return;
    this.lru.set(key, { seriesIds, startMs, endMs, value });
    for (const id of seriesIds) {
      let keys = this.keysBySeries.get(id);
      if (!keys) this.keysBySeries.set(id, (keys = new Set()));
      keys.add(key);
    }
  }

  invalidate(ranges: readonly CommittedRange[]) {
    const generation = this.generation++;
    for (const r of ranges) {
      this.lastWriteGeneration.set(r.seriesId, generation);
      for (const key of [...(this.keysBySeries.get(r.seriesId) ?? [])]) {
        const entry = this.lru?.peek(key);
        if (entry && entry.startMs <= r.maxTs && r.minTs <= entry.endMs) this.lru!.delete(key);
      }
    }
  }
}
