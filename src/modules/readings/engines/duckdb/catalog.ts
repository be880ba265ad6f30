import type { Store, StoreTx } from '../../../../core/store/index.js';
import type { CatalogPage, SeriesEntry } from '../../storage.js';
import { parseTags } from '../series-tags.js';
import { loadCatalogRows, loadStatsSince, saveSeriesStats } from './repository.js';

/** What one commit adds to a series. */
export interface SeriesDelta {
  id: number;
  count: number;
  firstTs: number;
  lastTs: number;
  lastValue: number;
}

/**
 * The series catalog, kept in memory and answered from memory (the hot path never reads it from
 * the store). Its stats are written to the store now and then, with the `seq` they are complete
 * up to; at start-up the readings appended after that are folded back in, so a killed process
 * loses nothing and start-up reads only the tail.
 */
export class SeriesCatalog {
  private readonly byKey = new Map<string, SeriesEntry>();
  private readonly entries: SeriesEntry[] = [];
  private readonly unsaved = new Set<number>();
  /** Every entry sorted by key, made again only after a series was added. */
  private sorted: SeriesEntry[] | undefined;
  /** Stats include every committed reading with seq ≤ this. */
  appliedSeq = 0;

  static async load(store: Store): Promise<SeriesCatalog> {
    const catalog = new SeriesCatalog();
    const { rows, statsSeq } = await loadCatalogRows(store);
    for (const r of rows)
      catalog.add({
        ...r,
        tags: parseTags(r.tags),
        firstTs: r.firstTs ?? Infinity,
        lastTs: r.lastTs ?? -Infinity,
        lastValue: r.lastValue ?? NaN,
      });
    catalog.appliedSeq = statsSeq;
    for (const d of await loadStatsSince(store, statsSeq)) {
      catalog.apply([d], d.maxSeq);
    }
    return catalog;
  }

  get(key: string): SeriesEntry | undefined {
    return this.byKey.get(key);
  }

  byId(id: number): SeriesEntry | undefined {
    return this.entries[id];
  }

  get nextId(): number {
    return this.entries.length === 0 ? 1 : this.entries.length;
  }

  /** Every series, sorted by key. */
  list(): SeriesEntry[] {
    return [...this.sortedEntries()];
  }

  /** At most `limit` series whose key starts with `prefix` and sorts after `afterKey`, sorted by key. */
  page(page: CatalogPage): SeriesEntry[] {
    const sorted = this.sortedEntries();
    const prefix = page.prefix ?? '';
    const from = page.afterKey !== undefined && page.afterKey >= prefix ? page.afterKey : prefix;
    // first entry after `from` (or at it, when starting at the prefix itself)
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const key = sorted[mid].key;
      if (key < from || (key === from && from === page.afterKey)) lo = mid + 1;
      else hi = mid;
    }
    const out: SeriesEntry[] = [];
    const wanted = page.tags ? Object.entries(page.tags) : [];
    for (let i = lo; i < sorted.length && out.length < page.limit && sorted[i].key.startsWith(prefix); i++) {
      const tags = sorted[i].tags;
      if (wanted.every(([k, v]) => tags?.[k] === v)) out.push(sorted[i]);
    }
    return out;
  }

  /** The latest reading's time over every series; -Infinity when there is none. */
  lastTs(): number {
    let last = -Infinity;
    for (const e of this.byKey.values()) if (e.lastTs > last) last = e.lastTs;
    return last;
  }

  add(entry: SeriesEntry) {
    this.byKey.set(entry.key, entry);
    this.entries[entry.id] = entry;
    this.sorted = undefined;
  }

  /** Forgets a series (deleted with its readings). */
  remove(id: number) {
    const entry = this.entries[id];
    if (!entry) return;
    this.byKey.delete(entry.key);
    delete this.entries[id];
    this.unsaved.delete(id);
    this.sorted = undefined;
  }

  private sortedEntries(): readonly SeriesEntry[] {
    this.sorted ??= [...this.byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return this.sorted;
  }

  /** Folds in a committed batch's per-series stats; `uptoSeq` is its highest seq. */
  apply(deltas: Iterable<SeriesDelta>, uptoSeq: number) {
    for (const d of deltas) {
      const e = this.entries[d.id];
      if (!e) continue;
      e.count += d.count;
      if (d.firstTs < e.firstTs) e.firstTs = d.firstTs;
      // same ts: this batch is the later write and wins
      if (d.lastTs >= e.lastTs) {
        e.lastTs = d.lastTs;
        e.lastValue = d.lastValue;
      }
      this.unsaved.add(d.id);
    }
    if (uptoSeq > this.appliedSeq) this.appliedSeq = uptoSeq;
  }

  /** Readings removed by compaction (duplicates) no longer count. */
  subtractCounts(removed: ReadonlyMap<number, number>) {
    for (const [id, n] of removed) {
      const e = this.entries[id];
      if (e) {
        e.count -= n;
        this.unsaved.add(id);
      }
    }
  }

  /**
   * Writes the unsaved stats and their watermark inside `tx`. Returns a function to call once
   * `tx` has committed.
   */
  async save(tx: StoreTx): Promise<() => void> {
    const ids = [...this.unsaved];
    await saveSeriesStats(
      tx,
      ids.map((id) => this.entries[id]),
      this.appliedSeq,
    );
    return () => {
      for (const id of ids) this.unsaved.delete(id);
    };
  }

  get hasUnsaved(): boolean {
    return this.unsaved.size > 0;
  }
}
