/**
 * One half-hour of a local day: the meter's energy and its products with each source's value for
 * the slot, worked out by the energy functions (undefined: that source had nothing for the slot).
 */
export interface Slot {
  startMs: number;
  usageKwh?: number;
  /** usage × unit rate, with and without VAT (p). */
  costIncVatP?: number;
  costExcVatP?: number;
  /** usage × actual carbon intensity (g). */
  carbonG?: number;
  /** usage × the fuel's share of generation (kWh × %), by fuel. */
  mixKwhPerc?: Record<string, number>;
}

export interface DailySummary {
  date: string;
  slotsExpected: number;
  slotsJoined: number;
  totalEnergyKwh: number;
  costIncVatP: number;
  costExcVatP: number;
  standingChargeIncVatP: number;
  totalCostIncVatP: number;
  carbonG: number;
  averageIntensityGPerKwh: number;
  mix: { fuel: string; perc: number }[];
}

/**
 * The energy-usage day (SEEDS §2): over the half-hours where usage, both unit rates, actual
 * intensity and mix are all known — total kWh, cost (Σ usage × rate), carbon (Σ usage × intensity),
 * average intensity (carbon ÷ kWh) and mix (Σ usage × perc ÷ kWh); plus the day's standing charge and
 * the total with it. The per-slot products come from the energy functions (pipeline.ts); this only
 * joins and adds them up. A day without usage has zero totals, never NaN.
 */
export function summariseDay(date: string, slots: readonly Slot[], standingChargeIncVatP: number): DailySummary {
  let kwh = 0;
  let incVat = 0;
  let excVat = 0;
  let carbon = 0;
  let joined = 0;
  const mixKwh = new Map<string, number>();
  for (const s of slots) {
    if (
      s.usageKwh === undefined ||
      s.costIncVatP === undefined ||
      s.costExcVatP === undefined ||
      s.carbonG === undefined ||
      !s.mixKwhPerc
    )
      continue;
    joined++;
    kwh += s.usageKwh;
    incVat += s.costIncVatP;
    excVat += s.costExcVatP;
    carbon += s.carbonG;
    for (const [fuel, weighted] of Object.entries(s.mixKwhPerc)) mixKwh.set(fuel, (mixKwh.get(fuel) ?? 0) + weighted);
  }
  return {
    date,
    slotsExpected: slots.length,
    slotsJoined: joined,
    totalEnergyKwh: kwh,
    costIncVatP: incVat,
    costExcVatP: excVat,
    standingChargeIncVatP,
    totalCostIncVatP: incVat + standingChargeIncVatP,
    carbonG: carbon,
    averageIntensityGPerKwh: kwh > 0 ? carbon / kwh : 0,
    mix: [...mixKwh]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([fuel, weighted]) => ({ fuel, perc: kwh > 0 ? weighted / kwh : 0 })),
  };
}
