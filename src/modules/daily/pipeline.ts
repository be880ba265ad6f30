import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Bus } from '../../core/bus/index.js';
import type { Logger } from '../../core/log.js';
import type { Store } from '../../core/store/index.js';
import type { ReadingsService } from '../readings/index.js';
import type { SourcesService } from '../sources/index.js';
import { saveStatus, saveSummary, statuses } from './repository.js';
import { summariseDay, type Slot } from './summary.js';

/** The energy-usage message, kept in its original shape on both topics. */
export interface ProcessorMessage {
  id: string;
  childProcesses: string[];
  context: { requestId: string; date: string; status: 'PENDING' | 'OK' | 'FAILED'; service: string; reason?: string };
  completed_at: string | null;
}

export const REQUEST_TOPIC = 'energy_processor';
export const COMPLETION_TOPIC = 'completion';
/** The four workers and the source each fetches its day from. */
export const WORKERS = {
  carbon: 'carbon-intensity',
  mix: 'generation-mix',
  usage: 'octopus-consumption',
  prices: 'octopus-tariff',
} as const;
const FUELS = ['biomass', 'coal', 'imports', 'gas', 'nuclear', 'other', 'hydro', 'solar', 'wind'];
const HALF_HOUR_MS = 1_800_000;

export function requestFor(date: string): ProcessorMessage {
  const id = randomUUID();
  return {
    id,
    childProcesses: Object.keys(WORKERS),
    context: { requestId: id, date, status: 'PENDING', service: 'daily' },
    completed_at: null,
  };
}

/** [start, end) of a local day in epoch ms: 46, 48 or 50 half-hours. */
export function localDay(date: string, zone: string): { startMs: number; endMs: number } {
  const start = DateTime.fromISO(date, { zone }).startOf('day');
  return { startMs: start.toMillis(), endMs: start.plus({ days: 1 }).toMillis() };
}

export interface PipelineDeps {
  bus: Bus;
  store: Store;
  log: Logger;
  zone: string;
  /** The meter's half-hourly consumption series (undefined: no meter configured). */
  usageSeries: string | undefined;
  sources: Pick<SourcesService, 'fetchRange'>;
  readings: Pick<ReadingsService, 'energy'>;
}

/**
 * Starts the pipeline's consumers: a dispatcher hands each request on `energy_processor` to the four
 * workers (one topic each, so each gets every request); each worker fetches and stores its day and
 * reports on `completion` (OK, or FAILED with the reason); the aggregator computes the summary once
 * all four are OK for that date. Returns the function that stops them.
 */
export function startPipeline(deps: PipelineDeps): () => void {
  const { bus, log } = deps;
  const stops = [
    bus.consume<ProcessorMessage>(REQUEST_TOPIC, async (request) => {
      await Promise.all(Object.keys(WORKERS).map((worker) => bus.publish(`${REQUEST_TOPIC}.${worker}`, request)));
    }),
    ...Object.entries(WORKERS).map(([worker, source]) =>
      bus.consume<ProcessorMessage>(`${REQUEST_TOPIC}.${worker}`, async (request) => {
        const { date } = request.context;
        const { startMs, endMs } = localDay(date, deps.zone);
        let status: 'OK' | 'FAILED' = 'OK';
        let reason: string | undefined;
        try {
          await deps.sources.fetchRange(source, startMs, endMs);
        } catch (err) {
          status = 'FAILED';
          reason = (err as Error).message;
          log.warn({ date, worker, reason }, 'daily worker failed');
        }
        await bus.publish<ProcessorMessage>(COMPLETION_TOPIC, {
          ...request,
          context: { ...request.context, status, service: worker, ...(reason ? { reason } : {}) },
          completed_at: new Date().toISOString(),
        });
      }),
    ),
    bus.consume<ProcessorMessage>(COMPLETION_TOPIC, async (message) => {
      const { date, service, status, reason } = message.context;
      await saveStatus(deps.store, date, service, status === 'OK' ? 'OK' : 'FAILED', reason ?? null);
      const known = await statuses(deps.store, date);
      if (Object.keys(WORKERS).every((w) => known.some((k) => k.service === w && k.status === 'OK'))) {
        await saveSummary(deps.store, await summarise(deps, date));
        log.info({ date }, 'daily summary stored');
      }
    }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}

/**
 * Joins the day's half-hours from the stored readings and summarises them. The arithmetic is the
 * energy functions' (readings.energy.weigh): the meter's kWh per half-hour by its kind, and per
 * half-hour its product with each rate, the intensity and each fuel's share, each of those
 * readings holding for its own half-hour only (a slot without one is missing, as it always was).
 */
export async function summarise(deps: PipelineDeps, date: string) {
  const { startMs, endMs } = localDay(date, deps.zone);
  const rates = { inc: 'tariff/unit-rate/inc-vat', exc: 'tariff/unit-rate/exc-vat' };
  const intensity = 'grid/carbon-intensity/actual';
  const fuels = FUELS.map((f) => [f, `grid/generation/${f}`] as const);
  const day = await deps.readings.energy.weigh(
    {
      energy: deps.usageSeries ?? 'meter/none/consumption',
      by: [rates.inc, rates.exc, intensity, ...fuels.map(([, key]) => key)],
      holdMs: HALF_HOUR_MS,
      // the standing charge in force on the day
      standing: 'tariff/standing-charge/inc-vat',
    },
    { startMs, endMs, window: '30m', zone: deps.zone },
  );
  // a slot's product with a series, undefined where that series had no value for it
  const product = (key: string, i: number) => {
    const weighed = day.by.get(key);
    return weighed && weighed.missingSlots[i] === 0 ? weighed.products[i] : undefined;
  };
  const slots: Slot[] = day.buckets.map(({ ts, energyKwh }, i) => {
    const mix = Object.fromEntries(
      fuels.flatMap(([fuel, key]) => (product(key, i) === undefined ? [] : [[fuel, product(key, i)!]])),
    );
    return {
      startMs: ts,
      usageKwh: deps.usageSeries && energyKwh !== null ? energyKwh : undefined,
      costIncVatP: product(rates.inc, i),
      costExcVatP: product(rates.exc, i),
      carbonG: product(intensity, i),
      mixKwhPerc: Object.keys(mix).length ? mix : undefined,
    };
  });
  return summariseDay(date, slots, day.standing ?? 0);
}
