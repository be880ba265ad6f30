import type { FastifyPluginAsync } from 'fastify';
import { Conflict, InvalidInput, NotFound } from '../../../core/errors.js';
import type { Store } from '../../../core/store/index.js';
import { polledDevice } from '../settings.js';
import {
  type DeviceWithHealth,
  getDeviceWithHealth,
  listDevicesWithHealth,
  POLL_PREFIX,
  removePollTarget,
  savePollTarget,
} from './repository.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A device as the API answers it: never its password. */
export function deviceJson(d: DeviceWithHealth) {
  const p = d.poll;
  return {
    id: d.deviceId,
    family: d.family,
    source: d.source,
    online: d.online,
    last_message: iso(d.lastMessage),
    created_at: iso(d.createdAt),
    poll: p && {
      kind: p.kind,
      url: p.url,
      interval_s: p.intervalS,
      username: p.username,
      timezone: p.timezone,
      configured_in: p.origin,
      last_success: iso(p.lastSuccess),
      last_error: p.lastError === null ? null : { time: iso(p.lastErrorAt), message: p.lastError },
      consecutive_failures: p.consecutiveFailures,
      next_poll: iso(p.nextPoll),
    },
  };
}

/**
 * `GET /api/v1/devices`, `GET /api/v1/devices/{id}` (read): every device of the registry (ids are
 * `<prefix>/<device>`, so `{id}` holds a `/`), polled ones with their health;
 * `POST /api/v1/devices` (write) adds or replaces a polled device; `DELETE /api/v1/devices/{id}`
 * (write) stops polling one. `changed` tells a poller in this process at once (others reread the
 * list every `devices.pollRefreshMs`).
 */
export const devicesRoutes =
  ({ store, now, changed }: { store: Store; now: () => number; changed: () => void }): FastifyPluginAsync =>
  async (http) => {
    const found = async (id: string) => {
      const d = await getDeviceWithHealth(store, id);
      if (!d) throw new NotFound(`no device ${id}; GET /api/v1/devices lists them`, { field: 'id' });
      return d;
    };

    http.get(
      '/api/v1/devices',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Every device: family, source, availability, last message; polling health',
          tags: ['devices'],
        },
      },
      async () => ({ devices: (await listDevicesWithHealth(store)).map(deviceJson) }),
    );

    http.get(
      '/api/v1/devices/*',
      { config: { access: 'read' }, schema: { summary: 'One device (id `<prefix>/<device>`)', tags: ['devices'] } },
      async (request) => deviceJson(await found((request.params as { '*': string })['*'])),
    );

    http.post(
      '/api/v1/devices',
      {
        config: { access: 'write' },
        schema: { summary: 'Add or replace a polled device', tags: ['devices'], body: { type: 'object' } },
      },
      async (request, reply) => {
        const parsed = polledDevice.safeParse(request.body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const field = issue.path.join('.') || 'body';
          throw new InvalidInput('invalid_device', `${field}: ${issue.message}`, { field });
        }
        const id = `${POLL_PREFIX}/${parsed.data.id}`;
        const before = await getDeviceWithHealth(store, id);
        if (before?.poll?.origin === 'settings')
          throw new Conflict('configured_in_settings', `${id} is configured in devices.poll; change it there`);
        const added = await savePollTarget(store, parsed.data, 'api', now());
        changed();
        reply.code(added ? 201 : 200);
        return deviceJson(await found(id));
      },
    );

    http.delete(
      '/api/v1/devices/*',
      { config: { access: 'write' }, schema: { summary: 'Stop polling a device', tags: ['devices'] } },
      async (request, reply) => {
        const d = await found((request.params as { '*': string })['*']);
        if (!d.poll)
          throw new Conflict(
            'not_polled',
            `${d.deviceId} is not polled: it reports over ${d.source}; nothing to delete`,
          );
        if (d.poll.origin === 'settings')
          throw new Conflict('configured_in_settings', `${d.deviceId} is configured in devices.poll; remove it there`);
        await removePollTarget(store, d.deviceId);
        changed();
        reply.code(204);
      },
    );
  };
