import { DateTime } from 'luxon';
import { type EnergyMethod, type EnergyOptions, energyMethod, energyPerBucket } from '../../../core/energy/by-kind.js';
import { addTrapezoid, type BucketValues, empty, spreadEvenly } from '../../../core/energy/spread.js';
import { InvalidInput } from '../../../core/errors.js';
import { DAY_MS } from '../../../core/time/timestamps.js';
import { nearest, readAround } from '../around.js';
import type { Bucket, EnergySpans, EnergySpansPlan } from '../plan.js';
import type { ReadingsStorage, SeriesEntry } from '../storage.js';

/** The SQL bucket of a range without inner edges: so wide that a range rarely meets one of its edges. */
const WIDEST_MS = 2 ** 50;
/**
 * Readings per SQL bucket (and series) from which the store does the arithmetic: its answer is a
 * row or two per bucket, and ordering readings costs the store more than reading them out, so with
 * few readings per bucket (half-hourly prices cut half-hourly meter readings) the raw readings are cheaper.
 */
export const SQL_FROM_READINGS_PER_BUCKET = 32;

export interface EnergyBucketsRequest {
  /** The series, all known to the catalog. */
  entries: readonly SeriesEntry[];
  /** The buckets' bounds (bucketEdges, maybe refined at price changes); [edges[0], edges[last]) is the range. */
  edges: Float64Array;
  /** The zone of calendar windows (local days nest inside local weeks and months). */
  zone: string;
  /** The energy unit of the answer. */
  to: string;
  options: EnergyOptions;
  /** The parameter a series without energy is blamed on. */
  field?: string;
  /** See SQL_FROM_READINGS_PER_BUCKET (tests set 0 to always use the store). */
  sqlFrom?: number;
  /** The cap on the raw readings read when the JS path is taken (energy.maxReadings). */
  maxReadings: number;
}

/**
 * Energy per bucket of `edges` for each series (by key), by its kind, in the unit `to`: the same
 * numbers as energyPerBucket over the series' readings and neighbours (to rounding), worked out in
 * the store. The store sums the spans lying wholly inside one of its buckets (which nest inside the
 * requested ones) and hands over only the few that cross an edge; those are spread here with the
 * same functions as the JS path, so coverage and cuts at edges are identical.
 */
export async function energyBuckets(
  storage: ReadingsStorage,
  request: EnergyBucketsRequest,
): Promise<Map<string, BucketValues & { method: EnergyMethod }>> {
  const { entries, edges, to, options } = request;
  const out = new Map<string, BucketValues & { method: EnergyMethod }>();
  const methods = entries.map((entry) => energyMethod(entry, to, request.field));
  for (const [i, entry] of entries.entries()) out.set(entry.key, { ...empty(edges), method: methods[i].method });
  if (edges.length < 2 || !entries.length) return out;
  const startMs = edges[0];
  const endMs = edges[edges.length - 1];
  const bucket = nestingBucket(edges, request.zone);
  const perBucket = readingsInRange(entries, startMs, endMs) / (entries.length * sqlBuckets(bucket, startMs, endMs));
  if (perBucket < (request.sqlFrom ?? SQL_FROM_READINGS_PER_BUCKET)) {
    const found = await readAround(storage, {
      series: entries.map((e) => e.key),
      startMs,
      endMs,
      maxReadings: request.maxReadings,
    });
    for (const entry of entries) {
      const points = found.get(entry.key)?.points ?? { ts: new Float64Array(0), value: new Float64Array(0), length: 0 };
      out.set(entry.key, energyPerBucket(entry, points, edges, to, options, request.field));
    }
    return out;
  }
  const [before, after] = await Promise.all([
    nearest(storage, entries, 'last', startMs),
    nearest(storage, entries, 'first', endMs),
  ]);
  // one query per method (and interval length): most requests make one
  const groups = new Map<string, number[]>();
  for (const [i, entry] of entries.entries()) {
    const key = `${methods[i].method} ${entry.intervalS ?? 0}`;
    const members = groups.get(key);
    if (members) members.push(i);
    else groups.set(key, [i]);
  }
  await Promise.all(
    [...groups.values()].map(async (members) => {
      const first = entries[members[0]];
      const method = methods[members[0]].method;
      const plan: EnergySpansPlan = {
        seriesIds: members.map((i) => entries[i].id),
        startMs,
        endMs,
        bucket,
        method: method === 'sum' ? 'interval' : method,
        maxGapMs: options.maxGapMs,
        resetTolerance: options.resetTolerance,
        intervalMs: (first.intervalS ?? 0) * 1000,
        lo: members.map((i) => before.get(entries[i].id)?.[0] ?? Math.ceil(startMs)),
        hi: members.map((i) => after.get(entries[i].id)?.[0] ?? Math.ceil(endMs) - 1),
      };
      const spans = await storage.energySpans(plan);
      const byId = new Map(members.map((i) => [entries[i].id, out.get(entries[i].key)!]));
      addSpans(spans, plan, edges, byId);
    }),
  );
  for (const [i, entry] of entries.entries()) {
    const { factor } = methods[i];
    const values = out.get(entry.key)!.values;
    if (factor !== 1) for (let k = 0; k < values.length; k++) values[k] *= factor;
  }
  return out;
}

/** Adds the store's sums to their buckets and spreads each crossing span as the JS path does. */
function addSpans(spans: EnergySpans, plan: EnergySpansPlan, edges: Float64Array, byId: Map<number, BucketValues>) {
  const startMs = edges[0];
  for (let r = 0; r < spans.length; r++) {
    const out = byId.get(spans.seriesId[r]);
    if (!out) continue;
    if (spans.inner[r]) {
      // the store's bucket may start before the range: its part in the range is the first bucket's
      const i = indexAt(edges, Math.max(spans.t[r], startMs));
      if (i < 0 || i >= edges.length - 1) continue;
      out.values[i] += spans.x[r];
      out.covered[i] = 1;
      continue;
    }
    const t0 = spans.t0[r];
    const t1 = spans.t[r];
    const hint = Math.max(0, indexAt(edges, t0));
    if (plan.method === 'integral') addTrapezoid(out, edges, t0, spans.v0[r], t1, spans.v1[r], hint);
    else spreadEvenly(out, edges, t0, t1, spans.x[r], hint);
  }
}

/** Index of the bucket of `edges` holding `t` (binary search); -1 before the first. */
function indexAt(edges: Float64Array, t: number): number {
  let lo = 0;
  let hi = edges.length - 1;
  if (t < edges[0]) return -1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= t) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * A bucket the store can group by whose edges include every inner edge of `edges`, so each of its
 * buckets lies inside one requested bucket: local days when the edges are local midnights of a zone
 * not a whole number of days from UTC; else epoch-aligned buckets as wide as the edges' greatest
 * common divisor (1h for hourly windows, a day for UTC days, 30 minutes for half-hourly prices).
 */
export function nestingBucket(edges: Float64Array, zone: string): Bucket {
  const inner = edges.subarray(1, edges.length - 1);
  let width = 0;
  for (const e of inner) width = gcd(width, Math.abs(e));
  if (inner.length === 0) return { kind: 'fixed', widthMs: WIDEST_MS };
  if (width % DAY_MS !== 0 && inner.every((e) => DateTime.fromMillis(e, { zone }).startOf('day').toMillis() === e))
    return { kind: 'calendar', unit: 'day', zone };
  if (!Number.isSafeInteger(width) || width <= 0)
    throw new InvalidInput('invalid_start', 'bucket edges must be whole milliseconds', { field: 'start' });
  return { kind: 'fixed', widthMs: width };
}

/** About how many readings of `entries` lie in [startMs, endMs), by the catalog's counts and spans. */
export function readingsInRange(entries: readonly SeriesEntry[], startMs: number, endMs: number): number {
  let total = 0;
  for (const e of entries) {
    if (!(e.count > 0) || e.lastTs < startMs || e.firstTs >= endMs) continue;
    const span = e.lastTs - e.firstTs;
    total += span > 0 ? (e.count * (Math.min(endMs, e.lastTs) - Math.max(startMs, e.firstTs))) / span : e.count;
  }
  return total;
}

/** How many buckets of `bucket` [startMs, endMs) meets. */
function sqlBuckets(bucket: Bucket, startMs: number, endMs: number): number {
  const width = bucket.kind === 'fixed' ? bucket.widthMs : DAY_MS;
  return Math.floor(endMs / width) - Math.floor(startMs / width) + 1;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Refuses (400, as readAround) a range holding more than `maxReadings` readings: the catalog's
 * counts answer when the series together hold fewer; else the store counts the range.
 */
export async function checkReadings(
  storage: ReadingsStorage,
  entries: readonly SeriesEntry[],
  range: { startMs: number; endMs: number },
  maxReadings: number,
) {
  const held = entries.filter((e) => e.firstTs < range.endMs && e.lastTs >= range.startMs);
  if (held.reduce((sum, e) => sum + e.count, 0) <= maxReadings) return;
  const counts = await storage.aggregate({
    seriesIds: held.map((e) => e.id),
    startMs: Math.ceil(range.startMs),
    endMs: Math.ceil(range.endMs) - 1,
    bucket: { kind: 'fixed', widthMs: WIDEST_MS },
    agg: 'count',
  });
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts.value[i];
  if (total > maxReadings)
    throw new InvalidInput(
      'too_many_readings',
      `the range holds more than ${maxReadings} readings (energy.maxReadings): ask for a shorter range or fewer series`,
      { field: 'start' },
    );
}
