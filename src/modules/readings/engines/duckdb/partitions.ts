import { DAY_MS } from '../../../../core/time/timestamps.js';

export type PartitionState = 'sorted' | 'appended' | 'dirty';

/** A day's wait for its next rewrite while written stops growing at dirtyWaitMs × 2^10 (17 h for 1 min). */
const MAX_DOUBLINGS = 10;

/**
 * What each UTC day of readings may hold. Only 'dirty' days can hold duplicates of (series, ts),
 * so only they need deduplicating at query time; in-order live data never does.
 * Keeps both the state queries must assume and the state last saved in the store, so a commit
 * writes a day's state only when the two differ.
 */
export class PartitionTracker {
  private readonly states = new Map<number, PartitionState>();
  private readonly saved = new Map<number, PartitionState>();
  private readonly lastWriteMs = new Map<number, number>();
  // when each dirty day was last rewritten (or became dirty): a day written all the time is not
  // rewritten on every compactor run
  private readonly dirtySinceMs = new Map<number, number>();
  // bumped on every write to a day, so the compactor can tell whether one landed while it ran
  private readonly versions = new Map<number, number>();
  // rewrites of each day so far: a day that keeps turning dirty while it is written (clients whose
  // requests overlap commit a series' readings out of order) waits twice as long after each, so
  // today is rewritten ~10 times in all rather than once a minute, each time larger
  private readonly rewrites = new Map<number, number>();

  constructor(initial: Iterable<{ day: number; state: PartitionState }> = []) {
    for (const p of initial) {
      this.states.set(p.day, p.state);
      this.saved.set(p.day, p.state);
    }
  }

  get(day: number): PartitionState | undefined {
    return this.states.get(day);
  }

  version(day: number): number {
    return this.versions.get(day) ?? 0;
  }

  /** Records a write to `day`; made visible before the write commits, so queries dedupe in time. */
  markWritten(day: number, state: PartitionState, nowMs: number) {
    if (state === 'dirty' && this.states.get(day) !== 'dirty') this.dirtySinceMs.set(day, nowMs);
    this.states.set(day, state);
    this.lastWriteMs.set(day, nowMs);
    this.versions.set(day, this.version(day) + 1);
  }

  /** States of `days` that differ from what the store holds. */
  unsaved(days: Iterable<number>): Map<number, PartitionState> {
    const out = new Map<number, PartitionState>();
    for (const day of days) {
      const state = this.states.get(day);
      if (state && state !== this.saved.get(day)) out.set(day, state);
    }
    return out;
  }

  /** The store now holds these states (call after the commit). */
  markSaved(states: ReadonlyMap<number, PartitionState>) {
    for (const [day, state] of states) this.saved.set(day, state);
  }

  /** A compaction that started at `version` has committed: the day is sorted unless written since. */
  markSorted(day: number, version: number, nowMs: number) {
    this.rewrites.set(day, (this.rewrites.get(day) ?? 0) + 1);
    if (this.version(day) === version) this.states.set(day, 'sorted');
    else this.dirtySinceMs.set(day, nowMs); // written meanwhile: still dirty, the wait starts again
  }

  /** Every day with its state, in no order. */
  entries(): [number, PartitionState][] {
    return [...this.states];
  }

  /** Every day with a state before `day`, in no order. */
  daysBefore(day: number): number[] {
    return [...this.states.keys()].filter((d) => d < day);
  }

  /** Dirty days intersecting [startMs, endMs], merged into contiguous [lo, hi) ranges. */
  dirtyRanges(startMs: number, endMs: number): [number, number][] {
    const first = Math.floor(startMs / DAY_MS);
    const last = Math.floor(endMs / DAY_MS);
    const days = [...this.states]
      .filter(([d, s]) => s === 'dirty' && d >= first && d <= last)
      .map(([d]) => d)
      .sort((a, b) => a - b);
    const ranges: [number, number][] = [];
    for (const d of days) {
      const prev = ranges[ranges.length - 1];
      if (prev && prev[1] === d * DAY_MS) prev[1] += DAY_MS;
      else ranges.push([d * DAY_MS, (d + 1) * DAY_MS]);
    }
    return ranges;
  }

  /**
   * Days worth compacting now: dirty ones first, then appended days that are over (UTC), each once
   * quiet for `quietMs` — today's in-order data is left alone rather than rewritten over and over.
   * A dirty day still being written waits at most `dirtyWaitMs` from when it became dirty or was
   * last rewritten, doubled after each rewrite of that day: a rewrite holds up writes (seconds for
   * a busy day), and queries deduplicate a dirty day meanwhile.
   */
  dueForCompaction(nowMs: number, quietMs: number, dirtyWaitMs: number, includeOpenDay = false): number[] {
    const today = Math.floor(nowMs / DAY_MS);
    const dirty: number[] = [];
    const quiet: number[] = [];
    for (const [day, state] of this.states) {
      const isQuiet = nowMs - (this.lastWriteMs.get(day) ?? 0) >= quietMs;
      if (state === 'dirty') {
        const waitMs = dirtyWaitMs * 2 ** Math.min(this.rewrites.get(day) ?? 0, MAX_DOUBLINGS);
        if (isQuiet || nowMs - (this.dirtySinceMs.get(day) ?? 0) >= waitMs) dirty.push(day);
      } else if (state === 'appended' && (day < today || includeOpenDay) && isQuiet) quiet.push(day);
    }
    return [...dirty.sort((a, b) => a - b), ...quiet.sort((a, b) => a - b)];
  }
}
