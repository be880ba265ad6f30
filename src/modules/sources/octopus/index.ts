import { DAY_MS } from '../../../core/time/timestamps.js';
import type { z } from 'zod';
import type { Reading } from '../../../core/readings.js';
import type { Connector } from '../connector.js';
import type { Upstream } from '../http.js';
import type { Settings } from '../settings.js';
import { consumptionPage, pricePage } from './upstream.js';

const HALF_HOUR_MS = 1_800_000;

/** Every page of a paged Octopus list, following `next`. */
async function allPages<T extends { next: string | null; results: unknown[] }>(
  upstream: Upstream,
  url: string,
  schema: z.ZodType<T>,
  headers?: Record<string, string>,
): Promise<T['results']> {
  const results: T['results'] = [];
  for (let next: string | null = url; next; ) {
    const reply: T = await upstream.getJson(next, schema, headers);
    for (const r of reply.results) results.push(r); // upstream decides the page size: no spread
    next = reply.next;
  }
  return results;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Octopus tariff prices: unit rates (p/kWh, one reading per half-hour slot — a rate spanning many
 * half-hours is split into its slots; `valid_to: null` runs to the end of the range) and standing
 * charges (p/day, one reading where each charge starts). On when product and tariff are set.
 */
export const createTariffConnector = (octopus: Settings['octopus']): Connector => ({
  name: 'octopus-tariff',
  off:
    octopus.product && octopus.tariff
      ? undefined
      : 'WATTLINE_OCTOPUS_PRODUCT and WATTLINE_OCTOPUS_TARIFF are not both set',
  chunkMs: 7 * DAY_MS,
  bootstrapDays: octopus.bootstrapDays,
  pollMs: octopus.pollMs,
  lookbackMs: DAY_MS,
  // a unit rate is stored per half-hour slot and holds for it; a standing charge holds until the next
  series: [
    {
      key: 'tariff/unit-rate/inc-vat',
      unit: 'p/kWh',
      kind: 'gauge',
      intervalS: HALF_HOUR_MS / 1000,
      description: 'Octopus unit rate including VAT, per half-hour slot',
    },
    {
      key: 'tariff/unit-rate/exc-vat',
      unit: 'p/kWh',
      kind: 'gauge',
      intervalS: HALF_HOUR_MS / 1000,
      description: 'Octopus unit rate excluding VAT, per half-hour slot',
    },
    {
      key: 'tariff/standing-charge/inc-vat',
      unit: 'p/day',
      kind: 'gauge',
      description: 'Octopus standing charge including VAT, per day; each holds until the next',
    },
    {
      key: 'tariff/standing-charge/exc-vat',
      unit: 'p/day',
      kind: 'gauge',
      description: 'Octopus standing charge excluding VAT, per day; each holds until the next',
    },
  ],
  async fetch({ fromMs, toMs }, upstream) {
    const { url, product, tariff } = octopus;
    const base = `${url.replace(/\/$/, '')}/v1/products/${encodeURIComponent(product!)}/electricity-tariffs/${encodeURIComponent(tariff!)}`;
    const range = `period_from=${iso(fromMs)}&period_to=${iso(toMs)}`;
    const readings: Reading[] = [];
    for (const rate of await allPages(upstream, `${base}/standard-unit-rates/?${range}`, pricePage)) {
      const validTo = rate.valid_to === null ? toMs : Math.min(Date.parse(rate.valid_to), toMs);
      // the first slot at or after both the rate's start and the range's start
      for (
        let slot = Math.ceil(Math.max(Date.parse(rate.valid_from), fromMs) / HALF_HOUR_MS) * HALF_HOUR_MS;
        slot < validTo;
        slot += HALF_HOUR_MS
      ) {
        readings.push(
          { series: 'tariff/unit-rate/inc-vat', ts: slot, value: rate.value_inc_vat },
          { series: 'tariff/unit-rate/exc-vat', ts: slot, value: rate.value_exc_vat },
        );
      }
    }
    for (const charge of await allPages(upstream, `${base}/standing-charges/?${range}`, pricePage)) {
      const ts = Math.max(Date.parse(charge.valid_from), fromMs);
      readings.push(
        { series: 'tariff/standing-charge/inc-vat', ts, value: charge.value_inc_vat },
        { series: 'tariff/standing-charge/exc-vat', ts, value: charge.value_exc_vat },
      );
    }
    return readings;
  },
});

/**
 * Octopus half-hourly meter consumption (kWh) into `meter/<mpan>/consumption`, basic auth with the
 * API key as the user. On when the API key, MPAN and serial are set.
 */
export const createConsumptionConnector = (octopus: Settings['octopus']): Connector => ({
  name: 'octopus-consumption',
  off:
    octopus.apiKey && octopus.mpan && octopus.serial
      ? undefined
      : 'WATTLINE_OCTOPUS_API_KEY, WATTLINE_OCTOPUS_MPAN and WATTLINE_OCTOPUS_SERIAL are not all set',
  chunkMs: 7 * DAY_MS,
  bootstrapDays: octopus.bootstrapDays,
  pollMs: octopus.pollMs,
  lookbackMs: 2 * DAY_MS, // meters report a day or so late
  series: [
    {
      key: `meter/${octopus.mpan}/consumption`,
      unit: 'kWh',
      kind: 'interval',
      intervalS: HALF_HOUR_MS / 1000,
      description: `Electricity used in each half-hour by meter ${octopus.mpan} (Octopus), at the half-hour's start`,
    },
  ],
  async fetch({ fromMs, toMs }, upstream) {
    const { url, apiKey, mpan, serial } = octopus;
    const first = `${url.replace(/\/$/, '')}/v1/electricity-meter-points/${encodeURIComponent(mpan!)}/meters/${encodeURIComponent(serial!)}/consumption/?period_from=${iso(fromMs)}&period_to=${iso(toMs)}&order_by=period`;
    const auth = { authorization: `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}` };
    const series = `meter/${mpan}/consumption`;
    return (await allPages(upstream, first, consumptionPage, auth)).map((c) => ({
      series,
      ts: Date.parse(c.interval_start),
      value: c.consumption,
    }));
  },
});
