import type { FastifyPluginAsync } from 'fastify';
import { Conflict, InvalidInput } from '../../../core/errors.js';
import type { Store } from '../../../core/store/index.js';
import { formatTime } from '../../../core/time/buckets.js';
import { parseDateParam } from '../../../core/time/dates.js';
import type { BuildingsService } from '../../buildings/index.js';
import type { ReadingsService } from '../../readings/index.js';
import { parseEventTime } from '../invitation.js';
import { type BaselineVerdict, dayBaseline, type EventReport, eventReport, type SlotFigures } from '../report.js';
import * as repo from '../repository.js';
import type { FlexEvents } from '../service.js';
import type { Settings } from '../settings.js';
import { shareOf } from '../view.js';

export interface ReportsDeps {
  store: Store;
  readings: ReadingsService;
  buildings: BuildingsService;
  events: FlexEvents;
  zone: string;
  settings: Settings['flex'];
}

const HALF_HOUR_H = 0.5;

/**
 * What events delivered, against the BL01 baseline (report.ts): the event report, the seed's
 * `dr/benefit`, and the flexibility forecast of a day.
 */
export const reportsRoutes =
  (deps: ReportsDeps): FastifyPluginAsync =>
  async (http) => {
    const { store, zone, events, settings } = deps;
    const holidays = new Set(settings.holidays);
    const iso = (ms: number) => formatTime(ms, zone);

    /** Local dates of the events (answered YES, not cancelled) other than `except`: days whose load was not as usual. */
    const eventDays = async (except?: string) => {
      const days = new Set<string>();
      for (const e of await repo.listEvents(store, { response: 'YES', order: 'event_time' })) {
        if (e.eventId === except || e.status === 'cancelled') continue;
        days.add(iso(e.eventTime).slice(0, 10));
        days.add(iso(e.eventTime + e.durationMinutes * 60_000 - 1).slice(0, 10));
      }
      return days;
    };

    /** The sensors of `ids` with their series, in the order given (a sensor deleted since is left out). */
    const devicesOf = async (ids: readonly string[]) => {
      const found = new Map((await deps.buildings.sensorsById(ids)).map((s) => [s.sensorId, s]));
      return ids.flatMap((id) => {
        const sensor = found.get(id);
        return sensor ? [{ id, series: sensor.series }] : [];
      });
    };

    /** The report of a completed event; 409 naming the status of one that is not. */
    const reportOf = async (event: repo.FlexEvent): Promise<EventReport> => {
      if (event.status !== 'completed')
        throw new Conflict(
          `event_${event.status}`,
          `event ${event.eventId} is ${event.status}: its report is made once it is completed`,
        );
      return eventReport({
        readings: deps.readings,
        zone,
        event: { startMs: event.eventTime, durationMinutes: event.durationMinutes, loadKwh: event.loadKwh },
        devices: await devicesOf(event.devices),
        eventDays: await eventDays(event.eventId),
        holidays,
        rewardPerKwh: settings.rewardPerKwh,
        sameDayAdjustment: settings.sameDayAdjustment,
      });
    };

    const slotsJson = (slots: readonly SlotFigures[]) =>
      slots.map((s) => ({
        time: iso(s.time),
        baseline_kwh: s.baselineKwh,
        actual_kwh: s.actualKwh,
        delivered_kwh: s.deliveredKwh,
      }));
    const verdictJson = (v: BaselineVerdict) => ({
      baseline: v.baseline,
      incomplete: v.incomplete,
      reason: v.reason ?? null,
      days_used: v.daysUsed,
    });

    http.get<{ Params: { id: string } }>(
      '/api/v1/flex/events/:id/report',
      {
        config: { access: 'read' },
        schema: {
          summary:
            'What a completed event delivered: BL01 baseline, actual and delivered kWh per half-hour, per device and in total',
          tags: ['flex'],
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        },
      },
      async (request) => {
        const event = await events.found(request.params.id, 'id');
        const report = await reportOf(event);
        return {
          event_id: event.eventId,
          event_time: iso(event.eventTime),
          duration_minutes: event.durationMinutes,
          response: event.response,
          slots: slotsJson(report.slots),
          total_delivered_kwh: report.totalDeliveredKwh,
          requested_kwh: report.requestedKwh,
          delivered_share: report.deliveredShare,
          reward_per_kwh: settings.rewardPerKwh,
          benefit: report.benefit,
          baseline_method: report.baselineMethod,
          ...verdictJson(report),
          adjustment: report.adjustment ?? null,
          devices: report.devices.map((d) => ({
            id: d.id,
            series: d.series,
            slots: slotsJson(d.slots),
            total_delivered_kwh: d.totalDeliveredKwh,
            ...verdictJson(d),
          })),
        };
      },
    );

    http.post<{ Body: { event_id?: string; event_time?: string } }>(
      '/api/v1/demand-response/dr/benefit',
      {
        config: { access: 'read' },
        schema: {
          summary: "A completed event's benefit: flex.rewardPerKwh × the kWh delivered against its baseline",
          tags: ['flex'],
          body: {
            type: 'object',
            additionalProperties: false,
            properties: { event_id: { type: 'string' }, event_time: { type: 'string' } },
          },
        },
      },
      async (request) => {
        const { event_id, event_time } = request.body;
        const event =
          event_id !== undefined
            ? await events.found(event_id)
            : event_time !== undefined
              ? await events.foundAt(parseEventTime(event_time, zone))
              : undefined;
        if (!event)
          throw new InvalidInput('missing_event', 'name the event: event_id or event_time', { field: 'event_id' });
        const report = await reportOf(event);
        return {
          event_id: event.eventId,
          event_time: iso(event.eventTime),
          total_delivered_kwh: report.totalDeliveredKwh,
          requested_kwh: report.requestedKwh,
          reward_per_kwh: settings.rewardPerKwh,
          benefit: report.benefit,
          baseline: report.baseline,
          incomplete: report.incomplete,
        };
      },
    );

    http.get<{ Querystring: { date?: string } }>(
      '/api/v1/demand-response/forecast/flexibility',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Load each device could shed in each half-hour of a day: its BL01 baseline × its share (kW)',
          tags: ['flex'],
          querystring: { type: 'object', required: ['date'], properties: { date: { type: 'string' } } },
        },
      },
      async (request) => {
        const date = parseDateParam(request.query.date, 'date');
        const settingsNow = await repo.deviceSettings(store);
        const devices = await devicesOf(settingsNow.map((s) => s.sensorId));
        const shares = new Map(settingsNow.map((s) => [s.sensorId, shareOf(s)]));
        const day = await dayBaseline({
          readings: deps.readings,
          zone,
          devices,
          eventDays: await eventDays(),
          holidays,
          date,
        });
        const perDevice = day.devices.map((d) => {
          const share = shares.get(d.id) ?? 0;
          return {
            iot: d.id,
            share,
            slots: d.slots.map((s) => ({
              time: iso(s.time),
              baseline_kwh: s.baselineKwh,
              flexibility_kw: s.baselineKwh === null ? null : (s.baselineKwh / HALF_HOUR_H) * share,
            })),
          };
        });
        // a half-hour's total counts the devices with a baseline there; null when none has one
        const slots = day.slots.map((s, i) => {
          const known = perDevice.map((d) => d.slots[i].flexibility_kw).filter((v): v is number => v !== null);
          return { time: iso(s.time), flexibility_kw: known.length ? known.reduce((a, b) => a + b, 0) : null };
        });
        return { date, slots, devices: perDevice, ...verdictJson(day) };
      },
    );
  };
