import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput } from '../../../core/errors.js';
import type { Store } from '../../../core/store/index.js';
import { parseEventTime } from '../invitation.js';
import * as repo from '../repository.js';
import type { FlexEvents } from '../service.js';
import { deviceJson, invitationJson, settingOf } from '../view.js';

const STATUSES = ['scheduled', 'active', 'completed', 'cancelled'] as const;
/** Most events one listing answers. */
const MAX_LISTED = 10_000;

/** `GET /api/v1/flex/events` and `POST /api/v1/flex/events/{id}/cancel`. */
export const eventsRoutes =
  (deps: { store: Store; events: FlexEvents; zone: string }): FastifyPluginAsync =>
  async (http) => {
    const { store, events, zone } = deps;

    http.get<{ Querystring: { from?: string; to?: string; status?: string } }>(
      '/api/v1/flex/events',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Events overlapping [from, to) with their devices (instruction and share now) and answers, by start',
          description:
            '`from` and `to` are ISO 8601 times or dates (without an offset: the building zone); `status` one of ' +
            `${STATUSES.join(', ')}.`,
          tags: ['flex'],
          querystring: {
            type: 'object',
            properties: { from: { type: 'string' }, to: { type: 'string' }, status: { type: 'string' } },
          },
        },
      },
      async (request) => {
        const { from, to, status } = request.query;
        const fromMs = from === undefined ? undefined : parseEventTime(from, zone, 'from', true);
        const toMs = to === undefined ? undefined : parseEventTime(to, zone, 'to', true);
        if (fromMs !== undefined && toMs !== undefined && toMs < fromMs)
          throw new InvalidInput('invalid_to', 'to must not be before from', { field: 'to' });
        if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
          throw new InvalidInput(
            'invalid_status',
            `status must be one of ${STATUSES.join(', ')} (got "${status.slice(0, 20)}")`,
            {
              field: 'status',
            },
          );
        const list = await repo.listEvents(store, {
          fromMs,
          toMs,
          status: status as repo.EventStatus | undefined,
          order: 'event_time',
          limit: MAX_LISTED,
        });
        const settings = new Map(
          (await repo.deviceSettings(store, [...new Set(list.flatMap((e) => e.devices))])).map((s) => [s.sensorId, s]),
        );
        return {
          events: list.map((event) => ({
            ...invitationJson(event, zone),
            devices: event.devices.map((id) => deviceJson(settingOf(id, settings.get(id)))),
          })),
        };
      },
    );

    http.post<{ Params: { id: string } }>(
      '/api/v1/flex/events/:id/cancel',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Cancel a scheduled or active event (409 once completed or cancelled)',
          tags: ['flex'],
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        },
      },
      async (request) => invitationJson(await events.cancel(request.params.id), zone),
    );
  };
