/**
 * MeanShift clustering with a flat kernel, as scikit-learn's `MeanShift(bin_seeding=True,
 * cluster_all=False)` with `estimate_bandwidth(quantile=0.3)` does it, which energy-sensors used:
 * seeds on a grid of the bandwidth, each shifted to the mean of the points within the bandwidth
 * until it settles, near-duplicate centres merged (the one with more points kept), every point
 * labelled with its nearest centre, or −1 when no centre is within the bandwidth.
 */

type Point = readonly number[];

function distanceSq(a: Point, b: Point): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += (a[i] - b[i]) ** 2;
  return d;
}

/** A small seeded generator, so a run is repeatable. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The mean distance of each point to its k-th nearest neighbour, k = quantile × n, over at most
 * `sampleSize` points (sampled: the estimate is quadratic in the points it looks at).
 */
export function estimateBandwidth(points: readonly Point[], quantile = 0.3, sampleSize = 1000, seed = 1): number {
  let sample = points;
  if (points.length > sampleSize) {
    const random = mulberry32(seed);
    sample = Array.from({ length: sampleSize }, () => points[Math.floor(random() * points.length)]);
  }
  const k = Math.max(1, Math.floor(sample.length * quantile));
  let total = 0;
  for (const p of sample) {
    const distances = sample.map((q) => distanceSq(p, q)).sort((a, b) => a - b);
    total += Math.sqrt(distances[Math.min(k, distances.length) - 1]);
  }
  return total / sample.length;
}

export interface MeanShiftResult {
  labels: Int32Array;
  centers: number[][];
}

export function meanShift(points: readonly Point[], bandwidth: number, maxIterations = 300): MeanShiftResult {
  const dims = points[0]?.length ?? 0;
  const radiusSq = bandwidth * bandwidth;
  // bin seeding: one seed per occupied grid cell of side `bandwidth`
  const bins = new Map<string, number[]>();
  for (const p of points) {
    const cell = p.map((v) => Math.round(v / bandwidth));
    bins.set(cell.join(','), cell);
  }
  const found: { center: number[]; size: number }[] = [];
  for (const cell of bins.values()) {
    let center = cell.map((v) => v * bandwidth);
    let size = 0;
    for (let it = 0; it < maxIterations; it++) {
      const sum = new Array<number>(dims).fill(0);
      let n = 0;
      for (const p of points) {
        if (distanceSq(p, center) <= radiusSq) {
          for (let d = 0; d < dims; d++) sum[d] += p[d];
          n++;
        }
      }
      if (n === 0) break;
      const next = sum.map((s) => s / n);
      const moved = distanceSq(next, center);
      center = next;
      size = n;
      if (moved < (1e-3 * bandwidth) ** 2) break;
    }
    if (size > 0) found.push({ center, size });
  }
  // merge centres closer than the bandwidth, keeping the one with more points
  found.sort((a, b) => b.size - a.size);
  const centers: number[][] = [];
  for (const f of found) if (!centers.some((c) => distanceSq(c, f.center) < radiusSq)) centers.push(f.center);
  const labels = new Int32Array(points.length);
  points.forEach((p, i) => {
    let best = -1;
    let bestSq = Infinity;
    centers.forEach((c, j) => {
      const d = distanceSq(p, c);
      if (d < bestSq) [best, bestSq] = [j, d];
    });
    labels[i] = bestSq <= radiusSq ? best : -1;
  });
  return { labels, centers };
}
