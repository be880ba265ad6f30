import { DAY_MS } from '../../../core/time/timestamps.js';
import type { Reading } from '../../../core/readings.js';
import { baseUrl, rangePaths } from '../carbon-intensity/range.js';
import type { Connector } from '../connector.js';
import type { Settings } from '../settings.js';
import { generationReply } from './upstream.js';

/** The fuels the API names; a fuel it adds later is stored too, just not described in the catalog. */
export const FUELS = ['biomass', 'coal', 'imports', 'gas', 'nuclear', 'other', 'hydro', 'solar', 'wind'] as const;

/** The series of one fuel's share of GB generation: `grid/generation/gas`. */
export const fuelSeries = (fuel: string) => `grid/generation/${fuel}`;

/**
 * GB generation mix from the Carbon Intensity API (`GET {carbon.url}/generation/{from}/{to}`): per
 * half-hour, at its start, one reading per fuel in `grid/generation/<fuel>` (% of generation;
 * fuels biomass, coal, imports, gas, nuclear, other, hydro, solar, wind).
 */
export const createGenerationMixConnector = (carbon: Settings['carbon']): Connector => ({
  name: 'generation-mix',
  off: carbon.url ? undefined : 'WATTLINE_CARBON_URL is empty',
  // no documented limit for /generation/{from}/{to}: the one /intensity has
  chunkMs: 14 * DAY_MS,
  bootstrapDays: carbon.bootstrapDays,
  pollMs: carbon.pollMs,
  lookbackMs: DAY_MS,
  // one reading per fuel and half-hour settlement period, at its start
  series: FUELS.map((fuel) => ({
    key: fuelSeries(fuel),
    unit: '%',
    kind: 'gauge' as const,
    intervalS: 1800,
    description: `Share of GB generation from ${fuel}, per half-hour (Carbon Intensity API)`,
  })),
  async fetch({ fromMs, toMs }, upstream) {
    const readings: Reading[] = [];
    // a request across 1 January loses the new year's half-hours: split there
    for (const range of rangePaths(fromMs, toMs, true)) {
      const reply = await upstream.getJson(`${baseUrl(carbon.url)}/generation/${range}`, generationReply);
      for (const slot of reply.data) {
        // the API also answers the half-hour ending at `from`: it belongs to the range before
        if (slot.from < fromMs || slot.from >= toMs) continue;
        for (const { fuel, perc } of slot.generationmix)
          readings.push({ series: fuelSeries(fuel), ts: slot.from, value: perc });
      }
    }
    return readings;
  },
});
