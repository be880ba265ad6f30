import type { ReadingsStorage } from './storage.js';

/** A series a query asked for that is not in the catalog, with the known key it most likely meant. */
export interface SeriesWarning {
  series: string;
  warning: 'unknown series';
  /** The closest known key, or null when none is close (see `closestKey`). */
  closest: string | null;
}

/** Unknown series past this many get a warning without a suggestion: each one costs catalog lookups. */
const MAX_SUGGESTIONS = 20;
/** Catalog entries compared per lookup: the catalog may hold hundreds of thousands of series. */
const CANDIDATES_PER_PREFIX = 1000;

/** Warnings for `unknown` (keys not in the catalog), in the order given. */
export async function unknownSeriesWarnings(
  storage: Pick<ReadingsStorage, 'listSeries'>,
  unknown: readonly string[],
): Promise<SeriesWarning[]> {
  const warnings: SeriesWarning[] = [];
  for (const [i, series] of unknown.entries()) {
    const closest = i < MAX_SUGGESTIONS ? closestKey(series, await candidates(storage, series)) : null;
    warnings.push({ series, warning: 'unknown series', closest });
  }
  return warnings;
}

/**
 * The known keys a typo of `key` is looked for among, a bounded number: those sharing its first
 * segment (up to the first `/`) as written, lower-cased and upper-cased; when there are none, those
 * sharing its first character in either case (a typo in the first segment).
 */
async function candidates(storage: Pick<ReadingsStorage, 'listSeries'>, key: string): Promise<string[]> {
  const list = async (prefixes: string[]) => {
    const keys = new Set<string>();
    for (const prefix of new Set(prefixes))
      for (const e of await storage.listSeries({ prefix, limit: CANDIDATES_PER_PREFIX })) keys.add(e.key);
    return [...keys];
  };
  const segment = key.split('/')[0];
  const bySegment = await list([segment, segment.toLowerCase(), segment.toUpperCase()]);
  if (bySegment.length) return bySegment;
  return list([key[0].toLowerCase(), key[0].toUpperCase()]);
}

/**
 * The key of `known` that `key` most likely meant: one equal but for case, else the one at the
 * smallest edit distance, when that distance is at most a third of the key's length (at least 2);
 * null when nothing is that close. Ties go to the key sorting first.
 */
export function closestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const sameButCase = known.filter((k) => k.toLowerCase() === lower).sort()[0];
  if (sameButCase !== undefined) return sameButCase;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of [...known].sort()) {
    const d = editDistance(key, k, bestDistance - 1);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Levenshtein distance of `a` and `b`, or `max + 1` as soon as it is known to exceed `max`:
 * most candidates are far off and are dropped after a few rows.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      current.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    previous = current;
  }
  return Math.min(previous[b.length], max + 1);
}
