import { randomUUID } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Bus } from '../../core/bus/index.js';
import { Conflict, InvalidInput, NotFound } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Store } from '../../core/store/index.js';
import { formatTime } from '../../core/time/buckets.js';
import type { BuildingsService } from '../buildings/index.js';
import { type DrChange, emitDr } from './events.js';
import type { Invitation } from './invitation.js';
import * as repo from './repository.js';
import type { Settings } from './settings.js';
import { invitationJson, settingOf, shareOf } from './view.js';

export interface EventsDeps {
  store: Store;
  bus: Bus;
  buildings: BuildingsService;
  now: () => number;
  zone: string;
  settings: Settings['flex'];
  log: Logger;
  registry: Registry;
}

/**
 * Events and their life: invitations, answers, cancelling, and the clock-driven transitions. Every
 * change is made in the store first (guarded by the status it leaves), then broadcast on
 * `dr_events`: a change is announced at most once, by the process that made it.
 */
export function createEvents(deps: EventsDeps) {
  const { store, bus, now, zone } = deps;
  const changes = new Counter({
    name: 'flex_event_changes_total',
    help: 'Demand-response event changes made by this process (created, answered, active, completed, cancelled)',
    labelNames: ['change'],
    registers: [deps.registry],
  });

  function announce(event: repo.FlexEvent, change: DrChange, atMs: number) {
    changes.inc({ change });
    emitDr(bus, {
      type: 'dr_event',
      change,
      event_id: event.eventId,
      event: invitationJson(event, zone),
      at: new Date(atMs).toISOString(),
    });
  }

  /** Tells the event's participating devices to start or stop shedding (their settings as they are now). */
  async function tellDevices(event: repo.FlexEvent, state: 'start' | 'stop', atMs: number) {
    const settings = new Map((await repo.deviceSettings(store, event.devices)).map((s) => [s.sensorId, s]));
    const until = formatTime(event.eventTime + event.durationMinutes * 60_000, zone);
    for (const sensorId of event.devices) {
      const setting = settingOf(sensorId, settings.get(sensorId));
      const share = shareOf(setting);
      if (share <= 0) continue;
      emitDr(bus, {
        type: 'dr_device',
        state,
        event_id: event.eventId,
        sensor_id: sensorId,
        instruction: setting.instruction,
        share: state === 'start' ? share : 0,
        until,
        at: new Date(atMs).toISOString(),
      });
    }
  }

  async function found(eventId: string, field = 'event_id'): Promise<repo.FlexEvent> {
    const event = await repo.getEvent(store, eventId);
    if (!event) throw new NotFound(`event "${eventId.slice(0, 100)}" does not exist`, { field });
    return event;
  }

  async function foundAt(eventTimeMs: number): Promise<repo.FlexEvent> {
    const event = await repo.getEventAt(store, eventTimeMs);
    if (!event) throw new NotFound(`no invitation at ${formatTime(eventTimeMs, zone)}`, { field: 'event_time' });
    return event;
  }

  /** A 409 naming the status an event is in when it can no longer change. */
  const closed = (event: repo.FlexEvent, what: string) =>
    new Conflict(`event_${event.status}`, `event ${event.eventId} is ${event.status}: it cannot be ${what}`);

  return {
    found,
    foundAt,

    /** Stores an invitation (devices must be registered sensors); YES at once when auto-answer is on. */
    async send(invitation: Invitation): Promise<repo.FlexEvent> {
      const known = new Set((await deps.buildings.sensorsById(invitation.iots)).map((s) => s.sensorId));
      const unknown = invitation.iots.filter((id) => !known.has(id));
      if (unknown.length)
        throw new InvalidInput(
          'unknown_device',
          `iots names devices that are not registered sensors: ${unknown.slice(0, 10).join(', ')}`,
          { field: 'iots' },
        );
      const clash = await repo.getEventAt(store, invitation.eventTimeMs);
      if (clash && clash.status !== 'cancelled')
        throw new Conflict(
          'event_exists',
          `an invitation at ${formatTime(invitation.eventTimeMs, zone)} exists (event ${clash.eventId}): answer or cancel it`,
        );
      const at = now();
      const auto = await repo.getAutoAnswer(store);
      const event: repo.FlexEvent = {
        eventId: randomUUID(),
        eventTime: invitation.eventTimeMs,
        durationMinutes: invitation.durationMinutes,
        loadKwh: invitation.loadKwh,
        loadPercentage: invitation.loadPercentage,
        response: auto ? 'YES' : 'WAITING',
        status: 'scheduled',
        devices: invitation.iots,
        createdAt: at,
        answeredAt: auto ? at : null,
        updatedAt: at,
      };
      await repo.insertEvent(store, event);
      announce(event, 'created', at);
      return event;
    },

    /** Answers an invitation; 409 once its event is completed or cancelled. */
    async answer(event: repo.FlexEvent, response: 'YES' | 'NO'): Promise<repo.FlexEvent> {
      if (event.status === 'completed' || event.status === 'cancelled') throw closed(event, 'answered');
      const at = now();
      const after = await repo.answerEvent(store, event.eventId, response, at);
      if (!after) throw closed(await found(event.eventId), 'answered');
      announce(after, 'answered', at);
      // an active event's devices start or stop with the answer
      if (after.status === 'active' && event.response !== response) {
        if (response === 'YES') await tellDevices(after, 'start', at);
        else if (event.response === 'YES') await tellDevices(after, 'stop', at);
      }
      return after;
    },

    async cancel(eventId: string): Promise<repo.FlexEvent> {
      const event = await found(eventId, 'id');
      if (event.status === 'completed' || event.status === 'cancelled') throw closed(event, 'cancelled');
      const at = now();
      const after = await repo.cancelEvent(store, eventId, at);
      if (!after) throw closed(await found(eventId, 'id'), 'cancelled');
      announce(after, 'cancelled', at);
      if (event.status === 'active' && event.response === 'YES') await tellDevices(after, 'stop', at);
      return after;
    },

    /**
     * Moves events on from the clock: scheduled → active at `event_time` (a `WAITING` answer
     * becomes `flex.unansweredAtStart`), then active → completed at the end, in that order, so a
     * process that was down through both does both on its first run.
     */
    async advance(): Promise<void> {
      const at = now();
      for (const event of await repo.startDueEvents(store, at, deps.settings.unansweredAtStart)) {
        announce(event, 'active', at);
        if (event.response === 'YES') await tellDevices(event, 'start', at);
      }
      for (const event of await repo.completeDueEvents(store, at)) {
        announce(event, 'completed', at);
        if (event.response === 'YES') await tellDevices(event, 'stop', at);
      }
    },

    /** Answers YES to the invitations still waiting, when auto-answer is on. */
    async autoAnswer(): Promise<void> {
      if (!(await repo.getAutoAnswer(store))) return;
      const at = now();
      for (const event of await repo.answerWaiting(store, at)) announce(event, 'answered', at);
    },
  };
}

export type FlexEvents = ReturnType<typeof createEvents>;
