import { InvalidInput } from '../errors.js';
import { type BucketValues, counterIncrease, gaugeIntegral, intervalSpread, type SeriesPoints } from './spread.js';
import { conversionFactor, integralFactor, isEnergyUnit, isPowerUnit } from './units.js';

/** What the catalog says of a series that energy arithmetic needs. */
export interface EnergySource {
  key: string;
  unit: string | null;
  kind: string;
  intervalS?: number | null;
}

export interface EnergyOptions {
  resetTolerance: number;
  maxGapMs: number;
}

/** How a series' energy is worked out, by its kind. */
export type EnergyMethod = 'increase' | 'integral' | 'sum';

/**
 * The method for a series and the factor to the energy unit `to`, or a 400 naming `field` that says
 * what is wrong with the series: energy comes from counters and interval series in an energy unit
 * (Wh, kWh, MWh) and from gauges in a power unit (W, kW, MW); nothing else holds energy.
 */
export function energyMethod(
  source: EnergySource,
  to: string,
  field = 'series',
): { method: EnergyMethod; factor: number } {
  const { key, unit, kind } = source;
  const fail = (why: string) => new InvalidInput('not_energy', `series "${key}" ${why}`, { field });
  if (unit === null)
    throw fail(`has no unit: set one (PUT /api/v1/series/${key}) to say whether it holds power or energy`);
  if (kind === 'gauge') {
    if (isPowerUnit(unit)) return { method: 'integral', factor: integralFactor(unit, to)! };
    if (isEnergyUnit(unit))
      throw fail(`is a gauge in ${unit}: a meter reading is kind counter, energy per interval kind interval`);
  } else if (kind === 'counter' || kind === 'interval') {
    if (isEnergyUnit(unit))
      return { method: kind === 'counter' ? 'increase' : 'sum', factor: conversionFactor(unit, to)! };
    throw fail(`is a ${kind} in ${unit}, not in an energy unit (Wh, kWh, MWh)`);
  }
  throw fail(`is in ${unit}, which is neither power nor energy`);
}

/** Energy per bucket of `edges` in the unit `to`, whatever the series' kind (see energyMethod). */
export function energyPerBucket(
  source: EnergySource,
  points: SeriesPoints,
  edges: Float64Array,
  to: string,
  options: EnergyOptions,
  field?: string,
): BucketValues & { method: EnergyMethod } {
  const { method, factor } = energyMethod(source, to, field);
  const raw =
    method === 'increase'
      ? counterIncrease(points, edges, options)
      : method === 'integral'
        ? gaugeIntegral(points, edges, options)
        : intervalSpread(points, edges, (source.intervalS ?? 0) * 1000);
  if (factor !== 1) for (let i = 0; i < raw.values.length; i++) raw.values[i] *= factor;
  return { ...raw, method };
}
