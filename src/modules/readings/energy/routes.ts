import type { FastifyPluginAsync } from 'fastify';
import { formatTime } from '../../../core/time/buckets.js';
import { energyParams } from './params.js';
import type { EnergyService, PricedAnswer } from './service.js';

const timeParams = {
  start: { type: 'string', description: 'ISO 8601 or an epoch number (inclusive)' },
  end: { type: 'string', description: 'ISO 8601 or an epoch number (exclusive: energy is over [start, end))' },
  precision: { type: 'string', enum: ['s', 'ms', 'us', 'ns'], description: 'Unit of epoch numbers' },
  window: {
    type: 'string',
    enum: ['1m', '5m', '15m', '30m', '1h', '1d', 'week', 'month'],
    description: '1d, week (from Monday) and month follow tz; none: one bucket for the range',
  },
  tz: { type: 'string', description: 'IANA time zone (default UTC)' },
} as const;

/** `/api/v1/energy` and its cost and carbon: energy arithmetic for any series and period. */
export const energyRoutes =
  (energy: EnergyService): FastifyPluginAsync =>
  async (http) => {
    // parameters are checked by energyParams, which names the parameter in its 400
    const route = { config: { access: 'read' as const }, validatorCompiler: () => () => true };

    http.get(
      '/api/v1/energy',
      {
        ...route,
        schema: {
          summary: 'Energy per bucket of any series, by its kind',
          description:
            'counter → increase (resets handled), power gauge → integral, interval → sum spread over each interval; ' +
            'a series in neither a power nor an energy unit is a 400 naming it.',
          tags: ['energy'],
          querystring: {
            type: 'object',
            // documentation only (validatorCompiler above): energyParams checks them, naming each
            required: ['series', 'start', 'end'],
            properties: {
              series: { type: 'string', description: 'Series keys, comma-separated' },
              ...timeParams,
              unit: { type: 'string', enum: ['Wh', 'kWh', 'MWh'], default: 'kWh' },
            },
          },
        },
      },
      async (request) => {
        const p = energyParams(request.query as Record<string, unknown>);
        const series = p.seriesList('series');
        const range = p.range();
        const unit = p.energyUnit();
        const results = await energy.energy(series, range, unit);
        const tz = p.tz();
        return {
          unit,
          results: results.map((r) => ({
            series: r.series,
            kind: r.kind,
            method: r.method,
            total: r.total,
            points: r.buckets.map((b) => ({ time: formatTime(b.ts, tz), value: b.value })),
          })),
        };
      },
    );

    http.get(
      '/api/v1/energy/cost',
      {
        ...route,
        schema: {
          summary: 'Cost per bucket: energy × a tariff, plus a standing charge per local day',
          tags: ['energy'],
          querystring: {
            type: 'object',
            properties: {
              energy: { type: 'string', description: 'The meter: a counter, power gauge or interval series' },
              tariff: {
                type: 'string',
                description: 'Price per kWh, a step function (each price holds until the next)',
              },
              standing: { type: 'string', description: 'Standing charge per day (optional)' },
              ...timeParams,
            },
          },
        },
      },
      async (request) => {
        const p = energyParams(request.query as Record<string, unknown>);
        const answer = await energy.cost(
          { energy: p.oneSeries('energy'), tariff: p.oneSeries('tariff'), standing: p.optionalSeries('standing') },
          p.range(),
        );
        return costBody(answer, p.tz());
      },
    );

    http.get(
      '/api/v1/energy/carbon',
      {
        ...route,
        schema: {
          summary: 'Grams of CO2 per bucket: energy × carbon intensity (gCO2/kWh)',
          tags: ['energy'],
          querystring: {
            type: 'object',
            properties: {
              energy: { type: 'string', description: 'The meter: a counter, power gauge or interval series' },
              intensity: { type: 'string', description: 'gCO2/kWh, a step function' },
              ...timeParams,
            },
          },
        },
      },
      async (request) => {
        const p = energyParams(request.query as Record<string, unknown>);
        const answer = await energy.carbon(
          { energy: p.oneSeries('energy'), intensity: p.oneSeries('intensity') },
          p.range(),
        );
        return carbonBody(answer, p.tz());
      },
    );
  };

function costBody({ buckets, totals }: PricedAnswer, tz: string | undefined) {
  return {
    buckets: buckets.map((b) => ({
      time: formatTime(b.ts, tz),
      energy_kwh: b.energyKwh,
      cost: b.cost,
      standing_charge: b.standingCharge,
      total: b.cost + b.standingCharge,
      missing_slots: b.missingSlots,
    })),
    totals: {
      energy_kwh: totals.energyKwh,
      cost: totals.cost,
      standing_charge: totals.standingCharge,
      total: totals.cost + totals.standingCharge,
      effective_price_per_kwh: totals.effectivePrice,
      missing_slots: totals.missingSlots,
      unpriced_kwh: totals.unpricedKwh,
    },
  };
}

function carbonBody({ buckets, totals }: PricedAnswer, tz: string | undefined) {
  return {
    buckets: buckets.map((b) => ({
      time: formatTime(b.ts, tz),
      energy_kwh: b.energyKwh,
      carbon_g: b.cost,
      missing_slots: b.missingSlots,
    })),
    totals: {
      energy_kwh: totals.energyKwh,
      carbon_g: totals.cost,
      average_g_per_kwh: totals.effectivePrice,
      missing_slots: totals.missingSlots,
      unknown_kwh: totals.unpricedKwh,
    },
  };
}
