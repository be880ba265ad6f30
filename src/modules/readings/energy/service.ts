import { type EnergyMethod, type EnergyOptions, energyPerBucket } from '../../../core/energy/by-kind.js';
import { priceSegments, standingPerBucket, type Steps, stepCuts, stepValues } from '../../../core/energy/cost.js';
import { bucketEdges, type EnergyWindow, refineEdges } from '../../../core/energy/edges.js';
import { InvalidInput } from '../../../core/errors.js';
import { type PointsAround, readAround } from '../around.js';
import type { Settings } from '../settings.js';
import type { ReadingsStorage, SeriesEntry } from '../storage.js';
import { checkReadings, energyBuckets, readingsInRange, SQL_FROM_READINGS_PER_BUCKET } from './buckets.js';

/** A range of buckets: [startMs, endMs), cut by `window` in `zone` (no window: one bucket). */
export interface EnergyRange {
  startMs: number;
  endMs: number;
  window?: EnergyWindow;
  zone: string;
}

export interface EnergySeries {
  series: string;
  kind: string;
  method: EnergyMethod;
  unit: string;
  /** Per bucket start; null where no reading covered the bucket. */
  buckets: { ts: number; value: number | null }[];
  total: number;
}

export interface PricedBucket {
  ts: number;
  energyKwh: number | null;
  /** energy × price over the slots that have a price; the price series' currency (p for p/kWh). */
  cost: number;
  standingCharge: number;
  missingSlots: number;
  unpricedKwh: number;
}

export interface PricedAnswer {
  buckets: PricedBucket[];
  totals: Omit<PricedBucket, 'ts' | 'energyKwh'> & { energyKwh: number; effectivePrice: number | null };
}

export interface WeighedAnswer {
  /** Per bucket: its start and energy (kWh; null where no reading covered it). */
  buckets: { ts: number; energyKwh: number | null }[];
  /** Per weighing series that exists: Σ energy × value per bucket, and its segments without a value. */
  by: Map<string, { products: Float64Array; missingSlots: Int32Array }>;
  standing: number | null;
}

/** Most buckets one answer may hold per series. */
export const MAX_BUCKETS = 100_000;

/** Energy, cost and carbon for any series and period: the energy functions every module calls. */
export function createEnergyService(storage: ReadingsStorage, settings: Settings['energy']) {
  const options: EnergyOptions = { maxGapMs: settings.maxGapMs, resetTolerance: settings.resetTolerancePpm / 1e6 };

  const edgesOf = (range: EnergyRange) => {
    const edges = bucketEdges(range.startMs, range.endMs, range.window, range.zone, MAX_BUCKETS);
    if (edges.length - 1 > MAX_BUCKETS)
      throw new InvalidInput('too_many_buckets', `more than ${MAX_BUCKETS} buckets: use a wider window`, {
        field: 'window',
      });
    return edges;
  };

  /** The catalog entries of `keys`, each a 400 naming its parameter when the series does not exist. */
  const entriesOf = async (keys: readonly { key: string; field: string }[]) => {
    const entries = await storage.series(keys.map((k) => k.key));
    const found = new Map(entries.map((e) => [e.key, e]));
    for (const { key, field } of keys)
      if (!found.has(key)) throw new InvalidInput('unknown_series', `series "${key}" does not exist`, { field });
    return found;
  };

  /** Energy per bucket of `edges` for each series, worked out in the store (buckets.ts). */
  const energyOf = async (
    entries: SeriesEntry[],
    edges: Float64Array,
    range: EnergyRange,
    to: string,
    field?: string,
  ) => {
    await checkReadings(storage, entries, range, settings.maxReadings);
    return energyBuckets(storage, {
      entries,
      edges,
      zone: range.zone,
      to,
      options,
      field,
      maxReadings: settings.maxReadings,
    });
  };

  /** Energy per bucket of each series, by its kind, in `unit` (Wh, kWh or MWh). */
  async function energy(series: readonly string[], range: EnergyRange, unit: string): Promise<EnergySeries[]> {
    const edges = edgesOf(range);
    const found = await entriesOf(series.map((key) => ({ key, field: 'series' })));
    const results = await energyOf(
      series.map((key) => found.get(key)!),
      edges,
      range,
      unit,
    );
    return series.map((key) => {
      const entry = found.get(key)!;
      const result = results.get(key)!;
      let total = 0;
      const buckets = Array.from(result.values, (v, i) => {
        if (!result.covered[i]) return { ts: edges[i], value: null };
        total += v;
        return { ts: edges[i], value: v };
      });
      return { series: key, kind: entry.kind, method: result.method, unit, buckets, total };
    });
  }

  /** Energy (kWh) × a step function per bucket, the energy cut wherever the step's value changes. */
  const priceAgainst = (meter: PointsAround, steps: Steps, edges: Float64Array, range: EnergyRange) => {
    const fine = refineEdges(edges, stepCuts(steps, range.startMs, range.endMs));
    const fineEnergy = energyPerBucket(meter.entry, meter.points, fine, 'kWh', options, 'energy');
    return priceSegments(edges, fine, fineEnergy, stepValues(steps, fine));
  };

  /**
   * Energy (kWh) × a step-function price per bucket: the energy is cut wherever the price changes
   * (or runs out), so each part is priced at its own rate. Used for cost (p/kWh → p) and carbon
   * (gCO2/kWh → g); `standing` adds a per-local-day charge.
   */
  async function priced(
    request: { energy: string; price: string; standing?: string; fields: { price: string; standing: string } },
    range: EnergyRange,
  ): Promise<PricedAnswer> {
    const edges = edgesOf(range);
    const entries = await entriesOf([
      { key: request.energy, field: 'energy' },
      { key: request.price, field: request.fields.price },
      ...(request.standing ? [{ key: request.standing, field: request.fields.standing }] : []),
    ]);
    // Prices are step functions of their raw readings. The meter's energy is summed in the store
    // when it has many readings between price changes; else its readings come with the prices.
    const meter = entries.get(request.energy)!;
    const price = entries.get(request.price)!;
    const cuts = readingsInRange([price], range.startMs, range.endMs) + edges.length - 1;
    const meterInStore = readingsInRange([meter], range.startMs, range.endMs) >= SQL_FROM_READINGS_PER_BUCKET * cuts;
    const found = await readAround(storage, {
      series: [
        ...(meterInStore ? [] : [request.energy]),
        request.price,
        ...(request.standing ? [request.standing] : []),
      ],
      startMs: range.startMs,
      endMs: range.endMs,
      maxReadings: settings.maxReadings,
    });
    const steps = stepsOf(found.get(request.price)!);
    const fine = refineEdges(edges, stepCuts(steps, range.startMs, range.endMs));
    const fineEnergy = meterInStore
      ? (await energyOf([meter], fine, range, 'kWh', 'energy')).get(meter.key)!
      : energyPerBucket(meter, found.get(request.energy)!.points, fine, 'kWh', options, 'energy');
    const result = priceSegments(edges, fine, fineEnergy, stepValues(steps, fine));
    const standing = request.standing
      ? standingPerBucket(edges, stepsOf(found.get(request.standing)!), range.zone)
      : new Float64Array(edges.length - 1);
    const buckets: PricedBucket[] = [];
    const totals = { energyKwh: 0, cost: 0, standingCharge: 0, missingSlots: 0, unpricedKwh: 0 };
    for (let i = 0; i < edges.length - 1; i++) {
      const charge = Number.isNaN(standing[i]) ? 0 : standing[i];
      const bucket = {
        ts: edges[i],
        energyKwh: result.covered[i] ? result.energy[i] : null,
        cost: result.cost[i],
        standingCharge: charge,
        missingSlots: result.missingSlots[i],
        unpricedKwh: result.unpricedEnergy[i],
      };
      buckets.push(bucket);
      totals.energyKwh += result.energy[i];
      totals.cost += bucket.cost;
      totals.standingCharge += charge;
      totals.missingSlots += bucket.missingSlots;
      totals.unpricedKwh += bucket.unpricedKwh;
    }
    const pricedKwh = totals.energyKwh - totals.unpricedKwh;
    return { buckets, totals: { ...totals, effectivePrice: pricedKwh > 0 ? totals.cost / pricedKwh : null } };
  }

  /**
   * Energy per bucket (kWh) and its product with each of several step-function series read
   * together (prices, intensities, shares in %), each of their readings holding `holdMs` at most:
   * the daily report's half-hours, where a slot without its own price is missing rather than priced
   * at the previous slot's. Series that do not exist (the energy one too) are missing throughout.
   * `standing`: the value of that series in force at the range's start (null: none).
   */
  async function weigh(
    request: { energy: string; by: readonly string[]; holdMs?: number; standing?: string },
    range: EnergyRange,
  ): Promise<WeighedAnswer> {
    const edges = edgesOf(range);
    const keys = [request.energy, ...request.by, ...(request.standing ? [request.standing] : [])];
    const found = await readAround(storage, {
      series: keys,
      startMs: range.startMs,
      endMs: range.endMs,
      maxReadings: settings.maxReadings,
    });
    const meter = found.get(request.energy);
    const energy = meter
      ? energyPerBucket(meter.entry, meter.points, edges, 'kWh', options, 'energy')
      : { values: new Float64Array(edges.length - 1), covered: new Uint8Array(edges.length - 1) };
    const by = new Map<string, { products: Float64Array; missingSlots: Int32Array }>();
    for (const key of request.by) {
      const weights = found.get(key);
      if (!meter || !weights) continue;
      const result = priceAgainst(meter, { points: weights.points, holdMs: request.holdMs }, edges, range);
      by.set(key, { products: result.cost, missingSlots: result.missingSlots });
    }
    const charges = request.standing ? found.get(request.standing) : undefined;
    const standing = charges ? stepValues(stepsOf(charges), Float64Array.of(range.startMs, range.endMs))[0] : NaN;
    return {
      buckets: Array.from(energy.values, (v, i) => ({ ts: edges[i], energyKwh: energy.covered[i] ? v : null })),
      by,
      standing: Number.isNaN(standing) ? null : standing,
    };
  }

  return {
    options,
    energy,
    weigh,
    /** Cost per bucket: energy × the tariff (a step function), plus the standing charge per local day. */
    cost: (request: { energy: string; tariff: string; standing?: string }, range: EnergyRange) =>
      priced(
        {
          energy: request.energy,
          price: request.tariff,
          standing: request.standing,
          fields: { price: 'tariff', standing: 'standing' },
        },
        range,
      ),
    /** Grams of CO2 per bucket: energy × the carbon intensity (gCO2/kWh, a step function). */
    carbon: (request: { energy: string; intensity: string }, range: EnergyRange) =>
      priced({ energy: request.energy, price: request.intensity, fields: { price: 'intensity', standing: '' } }, range),
  };
}

export type EnergyService = ReturnType<typeof createEnergyService>;

/** A price-like series as steps; an interval series' reading holds for its interval only. */
function stepsOf({ entry, points }: PointsAround): Steps {
  return { points, holdMs: entry.intervalS ? entry.intervalS * 1000 : undefined };
}
