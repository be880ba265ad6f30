/** One half-hour of a local day with what each source said for it (undefined: nothing stored). */
export interface Slot {
  startMs: number;
  usageKwh?: number;
  rateIncVatP?: number;
  rateExcVatP?: number;
  intensityGPerKwh?: number;
  /** Generation mix in percent, by fuel. */
  mix?: Record<string, number>;
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
 * The energy-usage day (SEEDS §2): over the half-hours where usage, unit rate, actual intensity and
 * mix are all known — total kWh, cost (usage × rate), carbon (usage × intensity), average intensity
 * (carbon ÷ kWh) and mix (Σ usage × perc ÷ kWh); plus the day's standing charge and the total with
 * it. A day without usage has zero totals, never NaN.
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
      s.rateIncVatP === undefined ||
      s.rateExcVatP === undefined ||
      s.intensityGPerKwh === undefined ||
      !s.mix
    )
      continue;
    joined++;
    kwh += s.usageKwh;
    incVat += s.usageKwh * s.rateIncVatP;
    excVat += s.usageKwh * s.rateExcVatP;
    carbon += s.usageKwh * s.intensityGPerKwh;
    for (const [fuel, perc] of Object.entries(s.mix)) mixKwh.set(fuel, (mixKwh.get(fuel) ?? 0) + s.usageKwh * perc);
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
