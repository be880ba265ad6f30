import { CliError, type Client } from '../client.js';
import { formatTable } from '../table.js';

export interface EnergyOptions {
  series: string;
  start: string;
  end: string;
  precision?: string;
  window?: string;
  tz?: string;
  unit?: string;
  cost?: string;
  standing?: string;
  carbon?: string;
}

interface EnergyReply {
  unit: string;
  results: { series: string; total: number; points: { time: string; value: number | null }[] }[];
}

interface CostReply {
  buckets: {
    time: string;
    energy_kwh: number | null;
    cost: number;
    standing_charge: number;
    total: number;
    missing_slots: number;
  }[];
  totals: {
    energy_kwh: number;
    cost: number;
    standing_charge: number;
    total: number;
    effective_price_per_kwh: number | null;
    missing_slots: number;
    unpriced_kwh: number;
  };
}

interface CarbonReply {
  buckets: { time: string; energy_kwh: number | null; carbon_g: number; missing_slots: number }[];
  totals: {
    energy_kwh: number;
    carbon_g: number;
    average_g_per_kwh: number | null;
    missing_slots: number;
    unknown_kwh: number;
  };
}

export type EnergyAnswer =
  | { kind: 'energy'; reply: EnergyReply }
  | { kind: 'cost'; reply: CostReply }
  | { kind: 'carbon'; reply: CarbonReply };

/** Asks /api/v1/energy, or its /cost or /carbon when --cost or --carbon names the price series. */
export async function runEnergy(client: Client, o: EnergyOptions): Promise<EnergyAnswer> {
  if (o.cost && o.carbon) throw new CliError('--cost and --carbon: ask for one at a time');
  if (o.standing && !o.cost) throw new CliError('--standing needs --cost');
  if ((o.cost || o.carbon) && o.unit) throw new CliError('--unit: cost and carbon are always per kWh');
  const range = { start: o.start, end: o.end, precision: o.precision, window: o.window, tz: o.tz };
  const path = (route: string, params: Record<string, string | undefined>) => {
    const search = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
    return `/api/v1/energy${route}?${search}`;
  };
  if (o.cost) {
    if (o.series.includes(',')) throw new CliError('--cost: one --series at a time');
    const params = { energy: o.series, tariff: o.cost, standing: o.standing, ...range };
    return { kind: 'cost', reply: await client.json<CostReply>('GET', path('/cost', params)) };
  }
  if (o.carbon) {
    if (o.series.includes(',')) throw new CliError('--carbon: one --series at a time');
    const params = { energy: o.series, intensity: o.carbon, ...range };
    return { kind: 'carbon', reply: await client.json<CarbonReply>('GET', path('/carbon', params)) };
  }
  return {
    kind: 'energy',
    reply: await client.json<EnergyReply>('GET', path('', { series: o.series, unit: o.unit, ...range })),
  };
}

/** A number for reading: ten significant digits, so float noise (0.30000000000000004) does not show. */
const num = (v: number | null) => (v === null ? '' : String(Number(v.toPrecision(10))));

/** The answer as a table, one row per bucket and a total row, then what the totals say. */
export function formatEnergy(answer: EnergyAnswer): string {
  if (answer.kind === 'energy') {
    const { unit, results } = answer.reply;
    const times = [...new Set(results.flatMap((r) => r.points.map((p) => p.time)))].sort();
    const columns = results.map((r) => new Map(r.points.map((p) => [p.time, p.value])));
    return formatTable([
      ['time', ...results.map((r) => `${r.series} (${unit})`)],
      ...times.map((t) => [t, ...columns.map((c) => num(c.get(t) ?? null))]),
      ['total', ...results.map((r) => num(r.total))],
    ]);
  }
  if (answer.kind === 'cost') {
    const { buckets, totals } = answer.reply;
    const table = formatTable([
      ['time', 'energy_kwh', 'cost', 'standing', 'total', 'missing_slots'],
      ...buckets.map((b) => [
        b.time,
        num(b.energy_kwh),
        num(b.cost),
        num(b.standing_charge),
        num(b.total),
        String(b.missing_slots),
      ]),
      [
        'total',
        num(totals.energy_kwh),
        num(totals.cost),
        num(totals.standing_charge),
        num(totals.total),
        String(totals.missing_slots),
      ],
    ]);
    return [
      table,
      `effective price per kWh: ${totals.effective_price_per_kwh === null ? 'none (nothing priced)' : num(totals.effective_price_per_kwh)}`,
      ...missing(totals.missing_slots, totals.unpriced_kwh, 'price'),
    ].join('\n');
  }
  const { buckets, totals } = answer.reply;
  const table = formatTable([
    ['time', 'energy_kwh', 'carbon_g', 'missing_slots'],
    ...buckets.map((b) => [b.time, num(b.energy_kwh), num(b.carbon_g), String(b.missing_slots)]),
    ['total', num(totals.energy_kwh), num(totals.carbon_g), String(totals.missing_slots)],
  ]);
  return [
    table,
    `average gCO2/kWh: ${totals.average_g_per_kwh === null ? 'none (no intensity known)' : num(totals.average_g_per_kwh)}`,
    ...missing(totals.missing_slots, totals.unknown_kwh, 'intensity'),
  ].join('\n');
}

/** Says how much energy went without a price or intensity: it is in energy_kwh, not in the cost or carbon. */
function missing(slots: number, kwh: number, what: 'price' | 'intensity'): string[] {
  const left = what === 'price' ? 'cost' : 'carbon';
  return slots > 0 ? [`no ${what} for ${num(kwh)} kWh (missing_slots ${slots}): left out of the ${left}`] : [];
}
