import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput } from '../../../core/errors.js';
import type { Store } from '../../../core/store/index.js';
import type { BuildingsService } from '../../buildings/index.js';
import type { ReadingsService } from '../../readings/index.js';
import { recentPowerKw, RECENT_MS } from '../flexibility.js';
import {
  checkInstruction,
  checkInvitation,
  checkResponse,
  INSTRUCTIONS,
  type InvitationBody,
  MAX_DEVICES,
  parseEventTime,
} from '../invitation.js';
import * as repo from '../repository.js';
import type { FlexEvents } from '../service.js';
import { deviceJson, invitationJson, settingOf, shareOf } from '../view.js';

const PREFIX = '/api/v1/demand-response';
const TAGS = ['flex'];
/** How many answered invitations `GET /invitation/answered` lists, as the seed. */
const ANSWERED_SHOWN = 5;

const deviceId = { type: 'string', minLength: 1, maxLength: 200 } as const;

export interface DemandResponseDeps {
  store: Store;
  readings: ReadingsService;
  buildings: BuildingsService;
  events: FlexEvents;
  now: () => number;
  zone: string;
}

/**
 * The Energy Dashboard's demand-response API, kept: invitations, answers, auto-answer, device
 * switches and instructions, flexibility now, and the event check (the report-based routes are in
 * reports.ts). Changes need a write key; reads (POSTs that only look included) a read key.
 */
export const demandResponseRoutes =
  (deps: DemandResponseDeps): FastifyPluginAsync =>
  async (http) => {
    const { store, events, zone, now } = deps;
    const json = (event: repo.FlexEvent) => invitationJson(event, zone);

    /** A registered sensor, or a 400 naming `field`. */
    const knownDevice = async (id: string, field = 'iot') => {
      const [sensor] = await deps.buildings.sensorsById([id]);
      if (!sensor)
        throw new InvalidInput('unknown_device', `device "${id.slice(0, 100)}" is not a registered sensor`, { field });
      return sensor;
    };

    http.post<{ Body: InvitationBody }>(
      `${PREFIX}/invitation/send`,
      {
        config: { access: 'write' },
        schema: {
          summary:
            'Send an invitation: an event asking the devices to shed load (201; WAITING, or YES with auto-answer)',
          description:
            '`event_time` is ISO 8601; without an offset it is a time in the building zone (`timezone`). ' +
            '`load_kwh` > 0, `0 ≤ load_percentage ≤ 100`, `iots` registered sensor ids, `0 < duration_minutes ≤ 120` (default 59).',
          tags: TAGS,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['event_time', 'load_kwh', 'load_percentage', 'iots'],
            properties: {
              event_time: { type: 'string' },
              load_kwh: { type: 'number' },
              load_percentage: { type: 'number' },
              iots: { type: 'array', items: deviceId },
              duration_minutes: { type: 'integer' },
            },
          },
        },
      },
      async (request, reply) => {
        const event = await events.send(checkInvitation(request.body, zone, now()));
        reply.code(201);
        return json(event);
      },
    );

    http.post<{ Body: { event_time: string } }>(
      `${PREFIX}/invitation/get`,
      {
        config: { access: 'read' },
        schema: {
          summary: 'The invitation at an event time',
          tags: TAGS,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['event_time'],
            properties: { event_time: { type: 'string' } },
          },
        },
      },
      async (request) => json(await events.foundAt(parseEventTime(request.body.event_time, zone))),
    );

    http.get(
      `${PREFIX}/invitation/unanswered`,
      {
        config: { access: 'read' },
        schema: { summary: 'Invitations waiting for an answer, soonest first', tags: TAGS },
      },
      async () => ({
        invitations: (
          await repo.listEvents(store, { response: 'WAITING', status: 'scheduled', order: 'event_time' })
        ).map(json),
      }),
    );

    http.get(
      `${PREFIX}/invitation/answered`,
      {
        config: { access: 'read' },
        schema: { summary: `The last ${ANSWERED_SHOWN} answered invitations, newest event first`, tags: TAGS },
      },
      async () => ({
        invitations: (
          await repo.listEvents(store, { answered: true, order: 'event_time_desc', limit: ANSWERED_SHOWN })
        ).map(json),
      }),
    );

    http.post<{ Body: { event_id?: string; event_time?: string; response: unknown } }>(
      `${PREFIX}/invitation/answer`,
      {
        config: { access: 'write' },
        schema: {
          summary:
            'Answer an invitation YES or NO (by event_id or event_time); 409 once its event is completed or cancelled',
          tags: TAGS,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['response'],
            properties: { event_id: { type: 'string' }, event_time: { type: 'string' }, response: {} },
          },
        },
      },
      async (request) => {
        const { body } = request;
        const response = checkResponse(body.response);
        let event: repo.FlexEvent;
        if (body.event_id !== undefined) event = await events.found(body.event_id);
        else if (body.event_time !== undefined) event = await events.foundAt(parseEventTime(body.event_time, zone));
        else
          throw new InvalidInput('missing_event', 'name the invitation: event_id or event_time', { field: 'event_id' });
        return json(await events.answer(event, response));
      },
    );

    http.get(
      `${PREFIX}/invitation/auto`,
      {
        config: { access: 'read' },
        schema: { summary: 'Whether new invitations are answered YES automatically', tags: TAGS },
      },
      async () => ({ auto_answer: await repo.getAutoAnswer(store) }),
    );

    http.post<{ Body: { auto_answer: boolean } }>(
      `${PREFIX}/invitation/auto`,
      {
        config: { access: 'write' },
        schema: {
          summary:
            'Switch auto-answer on or off (on: new invitations are YES, waiting ones are answered YES within flex.autoAnswerMs)',
          tags: TAGS,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['auto_answer'],
            properties: { auto_answer: { type: 'boolean' } },
          },
        },
      },
      async (request) => {
        await repo.setAutoAnswer(store, request.body.auto_answer, now());
        return { auto_answer: request.body.auto_answer };
      },
    );

    http.post<{ Body: { iot: string; enable: boolean } }>(
      `${PREFIX}/iot/demandresponse/enable`,
      {
        config: { access: 'write' },
        schema: {
          summary: "Switch a device's demand response on or off (off: it sheds nothing whatever its instruction)",
          tags: TAGS,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['iot', 'enable'],
            properties: { iot: deviceId, enable: { type: 'boolean' } },
          },
        },
      },
      async (request) => {
        const { iot, enable } = request.body;
        await knownDevice(iot);
        return deviceJson(await repo.saveDeviceSetting(store, iot, { enabled: enable }, now()));
      },
    );

    http.get<{ Querystring: { iot?: string } }>(
      `${PREFIX}/iot/instructions`,
      {
        config: { access: 'read' },
        schema: {
          summary: "Devices' demand-response switch and instruction (one device with ?iot=; a device never set is off)",
          tags: TAGS,
          querystring: { type: 'object', properties: { iot: deviceId } },
        },
      },
      async (request) => {
        const { iot } = request.query;
        if (iot === undefined) return { instructions: (await repo.deviceSettings(store)).map(deviceJson) };
        await knownDevice(iot);
        const [setting] = await repo.deviceSettings(store, [iot]);
        return { instructions: [deviceJson(settingOf(iot, setting))] };
      },
    );

    http.post<{
      Body: {
        iot?: string;
        instruction?: unknown;
        shifting_percentage?: unknown;
        instructions?: Record<string, unknown>;
      };
    }>(
      `${PREFIX}/iot/instructions`,
      {
        config: { access: 'write' },
        schema: {
          summary: `Set how a device takes part: ${INSTRUCTIONS.join(' | ')} (shifting with shifting_percentage 0–20)`,
          description:
            'One device: `{iot, instruction, shifting_percentage}` → the device. Several at once, as the seed posted them: ' +
            '`{instructions: {"<iot>": "participation" | "off" | {instruction, shifting_percentage}}}` → `{instructions:[…]}`; ' +
            'all are checked before any is changed.',
          tags: TAGS,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              iot: deviceId,
              instruction: {},
              shifting_percentage: {},
              instructions: { type: 'object', maxProperties: MAX_DEVICES },
            },
          },
        },
      },
      async (request) => {
        const { iot, instruction, shifting_percentage, instructions } = request.body;
        if (instructions !== undefined) {
          if (iot !== undefined || instruction !== undefined || shifting_percentage !== undefined)
            throw new InvalidInput(
              'mixed_forms',
              'send either {iot, instruction, …} or {instructions: {…}}, not both',
              {
                field: 'instructions',
              },
            );
          const wanted = Object.entries(instructions).map(([id, value]) => {
            const field = `instructions.${id.slice(0, 100)}`;
            const given =
              typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : { instruction: value };
            try {
              return { id, ...checkInstruction(given.instruction, given.shifting_percentage) };
            } catch (err) {
              throw new InvalidInput('invalid_instruction', `${field}: ${(err as Error).message}`, {
                field,
                cause: err,
              });
            }
          });
          const known = new Set((await deps.buildings.sensorsById(wanted.map((w) => w.id))).map((s) => s.sensorId));
          const unknown = wanted.find((w) => !known.has(w.id));
          if (unknown)
            throw new InvalidInput(
              'unknown_device',
              `device "${unknown.id.slice(0, 100)}" is not a registered sensor`,
              {
                field: `instructions.${unknown.id.slice(0, 100)}`,
              },
            );
          const at = now();
          const saved = [];
          for (const w of wanted)
            saved.push(
              deviceJson(
                await repo.saveDeviceSetting(
                  store,
                  w.id,
                  { instruction: w.instruction, shiftingPercentage: w.shiftingPercentage },
                  at,
                ),
              ),
            );
          return { instructions: saved };
        }
        if (iot === undefined)
          throw new InvalidInput('missing_iot', 'iot is required (or instructions)', { field: 'iot' });
        const checked = checkInstruction(instruction, shifting_percentage);
        await knownDevice(iot);
        return deviceJson(await repo.saveDeviceSetting(store, iot, checked, now()));
      },
    );

    http.get(
      `${PREFIX}/energy/flexibility`,
      {
        config: { access: 'read' },
        schema: {
          summary: 'Load each device could shed now: its average power over the last 15 minutes × its share (kW)',
          tags: TAGS,
        },
      },
      async () => {
        const nowMs = now();
        const settings = await repo.deviceSettings(store);
        const sensors = new Map(
          (await deps.buildings.sensorsById(settings.map((s) => s.sensorId))).map((s) => [s.sensorId, s]),
        );
        const power = await recentPowerKw(
          deps.readings,
          [...sensors.values()].map((s) => s.series),
          nowMs,
          zone,
        );
        let totalKw = 0;
        const devices = settings.map((setting) => {
          const sensor = sensors.get(setting.sensorId);
          const recent = sensor ? (power.get(sensor.series) ?? null) : null;
          const share = shareOf(setting);
          const flexibility = recent === null ? null : Math.max(0, recent) * share;
          if (flexibility !== null) totalKw += flexibility;
          return {
            ...deviceJson(setting),
            series: sensor?.series ?? null,
            recent_power_kw: recent,
            flexibility_kw: flexibility,
          };
        });
        return {
          at: new Date(nowMs).toISOString(),
          window_minutes: RECENT_MS / 60_000,
          devices,
          total_kw: totalKw,
        };
      },
    );

    http.post<{ Body: { event_time: string; iot: string } }>(
      `${PREFIX}/event/check`,
      {
        config: { access: 'read' },
        schema: {
          summary: 'Whether a device takes part in the event at event_time, and with what share (0–1)',
          tags: TAGS,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['event_time', 'iot'],
            properties: { event_time: { type: 'string' }, iot: deviceId },
          },
        },
      },
      async (request) => {
        const { iot } = request.body;
        const event = await events.foundAt(parseEventTime(request.body.event_time, zone));
        const [stored] = await repo.deviceSettings(store, [iot]);
        const setting = settingOf(iot, stored);
        const share = shareOf(setting);
        const reason = !event.devices.includes(iot)
          ? 'the invitation does not name this device'
          : event.status === 'cancelled' || event.status === 'completed'
            ? `the event is ${event.status}`
            : event.response !== 'YES'
              ? `the invitation is answered ${event.response}`
              : !setting.enabled
                ? 'demand response is disabled for this device'
                : share <= 0
                  ? `its instruction is ${setting.instruction}`
                  : null;
        return {
          event_id: event.eventId,
          event_time: json(event).event_time,
          iot,
          participates: reason === null,
          share: reason === null ? share : 0,
          instruction: setting.instruction,
          shifting_percentage: setting.shiftingPercentage,
          demandresponse: setting.enabled,
          response: event.response,
          status: event.status,
          reason,
        };
      },
    );
  };
