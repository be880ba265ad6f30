import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { NotFound } from '../../core/errors.js';
import { dateRangeParam, parseDateParam } from '../../core/time/dates.js';
import type { Bus } from '../../core/bus/index.js';
import { defineModule, type ModuleContext } from '../../core/module.js';
import type { Store } from '../../core/store/index.js';
import type { ReadingsService } from '../readings/index.js';
import type { SourcesService } from '../sources/index.js';
import { REQUEST_TOPIC, requestFor, startPipeline } from './pipeline.js';
import { statuses, summaries } from './repository.js';
import type { DailySummary } from './summary.js';

/** The energy-usage summary with its original field names (`GET /daily-summary/{date}`). */
function seedShape(s: DailySummary) {
  return {
    date: s.date,
    carbon_intensity: s.carbonG,
    average_carbon_intensity: s.averageIntensityGPerKwh,
    total_energy_used: s.totalEnergyKwh,
    total_energy_cost_inc_vat: s.costIncVatP,
    total_energy_cost_ex_vat: s.costExcVatP,
    mix_percentage: s.mix,
  };
}

/** The seed's fields plus what Wattline adds: slot counts and the standing charge. */
function fullShape(s: DailySummary) {
  return {
    ...seedShape(s),
    slots_expected: s.slotsExpected,
    slots_joined: s.slotsJoined,
    standing_charge_inc_vat: s.standingChargeIncVatP,
    total_cost_inc_vat_with_standing_charge: s.totalCostIncVatP,
  };
}

/**
 * The daily energy report (energy-usage): `POST /api/v1/daily/process` publishes one request per
 * local day on `energy_processor`; the pipeline's workers fetch each source's day and the aggregator
 * stores the summary (pipeline.ts). `GET /daily-summary/{date}` and `GET /api/v1/daily` read them.
 */
export const dailyModule = defineModule({
  name: 'daily',
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  create(
    { store, bus, log, core }: ModuleContext<unknown>,
    {
      readings,
      sources,
    }: { readings: Pick<ReadingsService, 'energy'>; sources: Pick<SourcesService, 'fetchRange' | 'usageSeries'> },
  ) {
    const pipeline = { bus, store, log, zone: core.timezone, usageSeries: sources.usageSeries, sources, readings };
    return {
      service: undefined,
      roles: {
        api: { routes: dailyRoutes({ store, bus }) },
        jobs: { start: () => startPipeline(pipeline) },
      },
    };
  },
});

/** Processing on request (admin), and the summaries (reads). */
const dailyRoutes =
  ({ store, bus }: { store: Store; bus: Bus }): FastifyPluginAsync =>
  async (http) => {
    http.post<{ Body: { from: string; to?: string } }>(
      '/api/v1/daily/process',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Process local days: fetch every source’s day and compute the summary',
          tags: ['daily'],
          body: {
            type: 'object',
            required: ['from'],
            properties: { from: { type: 'string' }, to: { type: 'string' } },
          },
        },
      },
      async (request) => {
        const dates = dateRangeParam(request.body.from, request.body.to, { from: 'from', to: 'to' });
        // in one process this resolves once every date is summarised (or failed); with NATS, once queued
        for (const date of dates) await bus.publish(REQUEST_TOPIC, requestFor(date));
        // what the workers reported so far (everything, in one process; with NATS they may still be at work)
        return {
          requested: dates,
          statuses: Object.fromEntries(await Promise.all(dates.map(async (d) => [d, await statuses(store, d)]))),
        };
      },
    );
    http.get<{ Params: { date: string } }>(
      '/daily-summary/:date',
      { schema: { summary: 'A day’s summary (energy-usage fields)', tags: ['daily'] } },
      async (request) => {
        const date = parseDateParam(request.params.date, 'date');
        const [summary] = await summaries(store, date, date);
        if (!summary)
          throw new NotFound(`no summary for ${date}; process it with wattline process --date ${date}`, {
            field: 'date',
          });
        return seedShape(summary);
      },
    );
    http.get<{ Querystring: { from?: string; to?: string } }>(
      '/api/v1/daily',
      { schema: { summary: 'Summaries of a date range, with slot counts and standing charge', tags: ['daily'] } },
      async (request) => {
        const from = parseDateParam(request.query.from, 'from');
        const to = parseDateParam(request.query.to ?? from, 'to');
        return { days: (await summaries(store, from, to)).map(fullShape) };
      },
    );
  };
