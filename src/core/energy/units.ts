/**
 * The units Wattline knows, and which of them are power or energy (those convert into one another
 * on request: `unit=kWh` of a Wh counter, `unit=kW` of a W gauge; power integrates into energy).
 */
export const KNOWN_UNITS = [
  'W',
  'kW',
  'MW',
  'Wh',
  'kWh',
  'MWh',
  'VA',
  'var',
  'V',
  'A',
  'Hz',
  '°C',
  '%',
  'gCO2/kWh',
  'p/kWh',
  'p/day',
  'GBP',
  'EUR',
] as const;
export type Unit = (typeof KNOWN_UNITS)[number];

export function isKnownUnit(unit: string): unit is Unit {
  return (KNOWN_UNITS as readonly string[]).includes(unit);
}

/** Power units in watts, energy units in watt-hours. */
const POWER: Record<string, number> = { W: 1, kW: 1e3, MW: 1e6 };
const ENERGY: Record<string, number> = { Wh: 1, kWh: 1e3, MWh: 1e6 };
const MS_PER_HOUR = 3_600_000;

export const isPowerUnit = (unit: string | null | undefined): boolean => unit != null && Object.hasOwn(POWER, unit);
export const isEnergyUnit = (unit: string | null | undefined): boolean => unit != null && Object.hasOwn(ENERGY, unit);

/** The factor that turns a value in `from` into one in `to` (both power, or both energy); undefined otherwise. */
export function conversionFactor(from: string, to: string): number | undefined {
  if (from === to) return 1;
  if (isPowerUnit(from) && isPowerUnit(to)) return POWER[from] / POWER[to];
  if (isEnergyUnit(from) && isEnergyUnit(to)) return ENERGY[from] / ENERGY[to];
  return undefined;
}

/**
 * The factor that turns the time integral of a power series (its unit × milliseconds) into the
 * energy unit `to`: for `W` → `kWh`, 1 / 3,600,000 / 1,000.
 */
export function integralFactor(powerUnit: string, to: string): number | undefined {
  if (!isPowerUnit(powerUnit) || !isEnergyUnit(to)) return undefined;
  return POWER[powerUnit] / ENERGY[to] / MS_PER_HOUR;
}

/** The energy unit that goes with a power unit (W → Wh, kW → kWh, MW → MWh). */
export function energyUnitOf(powerUnit: string): Unit | undefined {
  return ({ W: 'Wh', kW: 'kWh', MW: 'MWh' } as Record<string, Unit>)[powerUnit];
}
