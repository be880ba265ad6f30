import { DAY_MS } from '../../../core/time/timestamps.js';
import type { Reading } from '../../../core/readings.js';
import type { Connector } from '../connector.js';
import type { Settings } from '../settings.js';
import { baseUrl, rangePaths } from './range.js';
import { intensityReply } from './upstream.js';

/** Estimated actual intensity per half-hour, gCO2/kWh (none while the API says null). */
export const ACTUAL_SERIES = 'grid/carbon-intensity/actual';
/** Forecast intensity per half-hour, gCO2/kWh. */
export const FORECAST_SERIES = 'grid/carbon-intensity/forecast';

/**
 * GB grid carbon intensity from the Carbon Intensity API (`GET {carbon.url}/intensity/{from}/{to}`):
 * per half-hour, at its start, `grid/carbon-intensity/forecast` and `grid/carbon-intensity/actual`
 * in gCO2/kWh. A half-hour whose actual is still null gets no actual reading (never a zero); the
 * 24-hour look-back of every poll fills it in if the API has it by then.
 */
export const createCarbonIntensityConnector = (carbon: Settings['carbon']): Connector => ({
  name: 'carbon-intensity',
  off: carbon.url ? undefined : 'WATTLINE_CARBON_URL is empty',
  // the API's documented limit for /intensity/{from}/{to}
  chunkMs: 14 * DAY_MS,
  bootstrapDays: carbon.bootstrapDays,
  pollMs: carbon.pollMs,
  // actuals arrive after their half-hour (and may be revised): look back a day
  lookbackMs: DAY_MS,
  // one reading per half-hour settlement period, at its start
  series: [
    {
      key: FORECAST_SERIES,
      unit: 'gCO2/kWh',
      kind: 'gauge',
      intervalS: 1800,
      description: 'Forecast carbon intensity of the GB grid, per half-hour (Carbon Intensity API)',
    },
    {
      key: ACTUAL_SERIES,
      unit: 'gCO2/kWh',
      kind: 'gauge',
      intervalS: 1800,
      description: 'Estimated actual carbon intensity of the GB grid, per half-hour (Carbon Intensity API)',
    },
  ],
  async fetch({ fromMs, toMs }, upstream) {
    const readings: Reading[] = [];
    for (const range of rangePaths(fromMs, toMs)) {
      const reply = await upstream.getJson(`${baseUrl(carbon.url)}/intensity/${range}`, intensityReply);
      for (const slot of reply.data) {
        // the API also answers the half-hour ending at `from`: it belongs to the range before
        if (slot.from < fromMs || slot.from >= toMs) continue;
        readings.push({ series: FORECAST_SERIES, ts: slot.from, value: slot.intensity.forecast });
        if (slot.intensity.actual !== null)
          readings.push({ series: ACTUAL_SERIES, ts: slot.from, value: slot.intensity.actual });
      }
    }
    return readings;
  },
});
