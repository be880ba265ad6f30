import type { Bus } from '../../core/bus/index.js';
import { READINGS_LIVE_TOPIC, type ReadingBatch } from '../../core/readings.js';
import type { SeriesEntry } from '../readings/index.js';

/** The slot size figures are kept for: the summary's peak power window for up to 48 hours. */
export const SLOT_MS = 15 * 60_000;

/**
 * One series' figures for its recent slots: a ring of `capacity` cells indexed by slot number, each
 * holding the slot it is for (NaN: empty), its value, and when it was worked out.
 */
class SlotRing {
  readonly slot: Float64Array;
  readonly value: Float64Array;
  readonly at: Float64Array;

  constructor(capacity: number) {
    this.slot = new Float64Array(capacity).fill(Number.NaN);
    this.value = new Float64Array(capacity);
    this.at = new Float64Array(capacity);
  }

  get(slotStart: number, notBefore: number): number | undefined {
    const i = this.cell(slotStart);
    return this.slot[i] === slotStart && this.at[i] >= notBefore ? this.value[i] : undefined;
  }

  set(slotStart: number, value: number, at: number) {
    const i = this.cell(slotStart);
    this.slot[i] = slotStart;
    this.value[i] = value;
    this.at[i] = at;
  }

  /** Empties the cells of slots ending after `ts`. */
  dropEndingAfter(ts: number) {
    for (let i = 0; i < this.slot.length; i++) if (this.slot[i] + SLOT_MS > ts) this.slot[i] = Number.NaN;
  }

  private cell(slotStart: number) {
    return Math.floor(slotStart / SLOT_MS) % this.slot.length;
  }
}

interface Kept {
  /** What decides the series' answers besides its readings: a change drops everything kept. */
  signature: string;
  /**
   * The series' latest reading when the figures were worked out. A new reading after it changes
   * only the slots from the one holding it on (the span from the anchor to the new reading), so
   * those are dropped; a reading at or before it (late data, a correction) may change any slot.
   */
  anchorTs: number;
  /** The series' count of readings at the anchor. */
  count: number;
  slots: SlotRing;
  /** Whether slots ending after the anchor may be held (dropped at the next reading after it). */
  provisional: boolean;
}

/** What a slot figure is and how it is worked out for many series at once. */
export interface SlotFigure {
  /** Per series key, its figure for each slot in [startMs, endMs) (slot-aligned), by slot start. */
  compute(keys: string[], startMs: number, endMs: number): Promise<Map<string, Map<number, number>>>;
  /** The figure of a slot `compute` says nothing of (0 energy; NaN: no power reading). */
  absent: number;
}

/**
 * Figures (energy, peak power) of finished slots per series, kept between requests so a summary
 * over the last hours reads from the store only what changed: the slots since the series' last
 * reading, and the open ends of its range. Kept figures are dropped by the commit notices every
 * persistor broadcasts (READINGS_LIVE_TOPIC, as the query cache) and after `ttlMs`, a bound on
 * staleness should a notice from another process be lost (NATS core delivery is at most once).
 */
export class FinishedSlots {
  private readonly kept = new Map<string, Kept>();
  private readonly capacity: number;
  /**
   * While figures are being read: per series written meanwhile, the generation of its last write and
   * the earliest reading written, so what was read before a write is not kept as if after it.
   * Cleared when no read is in flight.
   */
  private readonly writes = new Map<string, { generation: number; minTs: number }>();
  private generation = 0;
  private reading = 0;

  constructor(
    private readonly figure: SlotFigure,
    private readonly options: { keepMs: number; ttlMs: number; now: () => number },
  ) {
    // one more cell than the window holds, so a range's slots never share a cell
    this.capacity = Math.ceil(options.keepMs / SLOT_MS) + 2;
  }

  /** Follows commit notices; returns the function that stops it. */
  follow(bus: Bus): () => void {
    return bus.subscribe<ReadingBatch>(READINGS_LIVE_TOPIC, (batch) => this.committed(batch));
  }

  /** A commit: slots after each series' anchor are dropped; a late reading drops the series. */
  committed(batch: ReadingBatch) {
    const minTs = new Float64Array(batch.keys.length).fill(Infinity);
    for (let i = 0; i < batch.length; i++) {
      const k = batch.keyIndex[i];
      if (batch.ts[i] < minTs[k]) minTs[k] = batch.ts[i];
    }
    const generation = ++this.generation;
    batch.keys.forEach((key, k) => {
      if (minTs[k] === Infinity) return;
      const kept = this.kept.get(key);
      const late = !kept || minTs[k] <= kept.anchorTs;
      if (late) this.kept.delete(key);
      else if (kept.provisional) {
        kept.slots.dropEndingAfter(kept.anchorTs);
        kept.provisional = false;
      }
      if (this.reading === 0) return;
      const before = this.writes.get(key);
      this.writes.set(key, { generation, minTs: Math.min(before?.minTs ?? Infinity, minTs[k]) });
    });
  }

  /**
   * Each entry's figure per slot for the slots in [firstSlot, endSlot): kept ones as they are, the
   * rest worked out (one `compute` per group of series missing the same slots) and kept.
   */
  async slots(entries: readonly SeriesEntry[], firstSlot: number, endSlot: number) {
    const now = this.options.now();
    const notBefore = now - this.options.ttlMs;
    const token = this.generation;
    const out = new Map<string, Float64Array>();
    /** Series by the first slot they miss. */
    const missing = new Map<number, SeriesEntry[]>();
    const count = Math.max(0, Math.round((endSlot - firstSlot) / SLOT_MS));
    if (count > this.capacity - 2) throw new RangeError(`more than ${this.capacity - 2} slots`);
    for (const entry of entries) {
      const values = new Float64Array(count);
      out.set(entry.key, values);
      const kept = this.current(entry);
      let i = 0;
      for (; i < count; i++) {
        const value = kept?.slots.get(firstSlot + i * SLOT_MS, notBefore);
        if (value === undefined) break;
        values[i] = value;
      }
      if (i === count) continue;
      const from = firstSlot + i * SLOT_MS;
      missing.set(from, [...(missing.get(from) ?? []), entry]);
    }
    // a few reads at most: many groups (after late data, say) are read together from the earliest
    const groups = [...missing].sort(([a], [b]) => a - b);
    const reads = groups.length <= 4 ? groups : [[groups[0][0], groups.flatMap(([, g]) => g)] as const];
    this.reading++;
    try {
      await Promise.all(reads.map(([from, group]) => this.read(group, from, endSlot, firstSlot, token, now, out)));
    } finally {
      if (--this.reading === 0) this.writes.clear();
    }
    return out;
  }

  private async read(
    group: readonly SeriesEntry[],
    from: number,
    endSlot: number,
    firstSlot: number,
    token: number,
    now: number,
    out: Map<string, Float64Array>,
  ) {
    const figures = await this.figure.compute(
      group.map((e) => e.key),
      from,
      endSlot,
    );
    for (const entry of group) {
      const bySlot = figures.get(entry.key);
      const values = out.get(entry.key)!;
      for (let ts = from; ts < endSlot; ts += SLOT_MS)
        values[Math.round((ts - firstSlot) / SLOT_MS)] = bySlot?.get(ts) ?? this.figure.absent;
      this.keep(entry, token, from, endSlot, (ts) => values[Math.round((ts - firstSlot) / SLOT_MS)], now);
    }
  }

  /**
   * The kept figures of the series, unless its unit, kind or history changed since. The catalog
   * also tells of writes whose notice has not arrived yet (from another process): a later reading
   * than the anchor drops the slots after it; more readings but no later one, everything.
   */
  private current(entry: SeriesEntry): Kept | undefined {
    const kept = this.kept.get(entry.key);
    if (!kept) return undefined;
    const lateWrite = entry.lastTs === kept.anchorTs && entry.count !== kept.count;
    if (kept.signature !== signatureOf(entry) || entry.lastTs < kept.anchorTs || lateWrite) {
      this.kept.delete(entry.key);
      return undefined;
    }
    if (entry.lastTs > kept.anchorTs && kept.provisional) {
      kept.slots.dropEndingAfter(kept.anchorTs);
      kept.provisional = false;
    }
    return kept;
  }

  /** Keeps what was read of [from, endSlot), as far as no write since `token` may have changed it. */
  private keep(
    entry: SeriesEntry,
    token: number,
    from: number,
    endSlot: number,
    valueAt: (slotStart: number) => number,
    now: number,
  ) {
    const anchorTs = entry.lastTs;
    const written = this.writes.get(entry.key);
    let until = endSlot;
    if (written && written.generation > token) {
      // a write at or before the anchor may have changed any slot; one after it, the slots after it
      if (written.minTs <= anchorTs) return;
      until = Math.min(endSlot, Math.floor(anchorTs / SLOT_MS) * SLOT_MS);
    }
    let kept = this.current(entry);
    if (!kept) {
      kept = {
        signature: signatureOf(entry),
        anchorTs,
        count: entry.count,
        slots: new SlotRing(this.capacity),
        provisional: false,
      };
      this.kept.set(entry.key, kept);
    }
    kept.anchorTs = anchorTs;
    kept.count = entry.count;
    kept.provisional = true;
    // slots ending after the anchor change with the next reading: kept until its commit notice drops them
    for (let ts = from; ts < until; ts += SLOT_MS) kept.slots.set(ts, valueAt(ts), now);
  }
}

/** Unit, kind, interval and first reading: a series deleted and written again starts afresh. */
function signatureOf(entry: SeriesEntry): string {
  return `${entry.unit}|${entry.kind}|${entry.intervalS}|${entry.firstTs}`;
}
