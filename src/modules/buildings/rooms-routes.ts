import type { RegistrySnapshot } from './registry-snapshot.js';
import type { FastifyPluginAsync } from 'fastify';
import { Conflict, InvalidInput, NotFound } from '../../core/errors.js';
import type { Store } from '../../core/store/index.js';
import type { ReadingsService } from '../readings/index.js';
import * as repo from './repository.js';
import { ROOM_METRICS, type RoomMetric, roomSeriesKey } from './room-series.js';
import { roomJson } from './view.js';

interface RoomBody {
  name?: string;
  floor?: number | null;
  area_m2?: number | null;
  description?: string | null;
}

const roomProperties = {
  // the column is an INTEGER (found by fuzzing: a floor beyond it was a 500)
  floor: { type: ['integer', 'null'], minimum: -(2 ** 31), maximum: 2 ** 31 - 1 },
  area_m2: { type: ['number', 'null'], exclusiveMinimum: 0 },
  description: { type: ['string', 'null'], maxLength: 1000 },
} as const;

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } as const;
const METRICS = Object.keys(ROOM_METRICS) as RoomMetric[];

/** Rooms: list (with their latest metrics), names, CRUD by name (URL-encoded: names may hold spaces). */
export const roomsRoutes =
  (deps: {
    store: Store;
    readings: ReadingsService;
    now: () => number;
    registry: RegistrySnapshot;
  }): FastifyPluginAsync =>
  async (http) => {
    const { store, readings } = deps;

    const found = async (name: string) => {
      const room = await repo.getRoom(store, name);
      if (!room) throw new NotFound(`room "${name.slice(0, 100)}" does not exist`, { field: 'name' });
      return room;
    };
    const sensorCount = async (name: string) => (await repo.listSensors(store, { room: name })).length;

    http.get(
      '/api/v1/rooms',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Rooms with their sensor count and latest metrics (null where none was computed)',
          tags: ['buildings'],
        },
      },
      async () => {
        const { rooms, sensors } = await deps.registry.read();
        const counts = new Map<string, number>();
        for (const s of sensors) if (s.room !== null) counts.set(s.room, (counts.get(s.room) ?? 0) + 1);
        // every room's metric series in one catalog call: their latest values are in memory
        const keys = rooms.flatMap((r) => METRICS.map((m) => roomSeriesKey(r.name, m)));
        const entries = new Map((await readings.catalog(keys)).map((e) => [e.key, e]));
        return {
          rooms: rooms.map((room) => {
            const metrics: Record<string, number | string | null> = {};
            let computedAt = -Infinity;
            for (const m of METRICS) {
              const e = entries.get(roomSeriesKey(room.name, m));
              const has = e !== undefined && Number.isFinite(e.lastTs);
              metrics[m] = has ? e.lastValue : null;
              if (has && e.lastTs > computedAt) computedAt = e.lastTs;
            }
            metrics.computed_at = Number.isFinite(computedAt) ? new Date(computedAt).toISOString() : null;
            return { ...roomJson(room, counts.get(room.name) ?? 0), metrics };
          }),
        };
      },
    );

    http.get(
      '/api/v1/rooms/names',
      { config: { access: 'read' }, schema: { summary: "The rooms' names", tags: ['buildings'] } },
      async () => ({ rooms: (await repo.listRooms(store)).map((r) => r.name) }),
    );

    http.post<{ Body: RoomBody }>(
      '/api/v1/rooms',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Add a room (409 when the name exists)',
          tags: ['buildings'],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: { name: { type: 'string' }, ...roomProperties },
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const name = checkedName(body.name!);
        if (await repo.getRoom(store, name)) throw new Conflict('room_exists', `room "${name}" exists`);
        const now = deps.now();
        const room: repo.Room = {
          name,
          floor: body.floor ?? null,
          areaM2: body.area_m2 ?? null,
          description: body.description ?? null,
          createdAt: now,
          updatedAt: now,
        };
        await repo.insertRoom(store, room);
        deps.registry.changed();
        reply.code(201);
        return roomJson(room, 0);
      },
    );

    http.get<{ Params: { name: string } }>(
      '/api/v1/rooms/:name',
      { config: { access: 'read' }, schema: { summary: 'A room', tags: ['buildings'], params: nameParam } },
      async (request) => {
        const room = await found(request.params.name);
        return roomJson(room, await sensorCount(room.name));
      },
    );

    http.put<{ Params: { name: string }; Body: RoomBody }>(
      '/api/v1/rooms/:name',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Change a room: the fields given (null clears one); the name stays',
          tags: ['buildings'],
          params: nameParam,
          body: { type: 'object', additionalProperties: false, properties: roomProperties },
        },
      },
      async (request) => {
        const before = await found(request.params.name);
        const body = request.body ?? {};
        const room: repo.Room = {
          ...before,
          floor: body.floor === undefined ? before.floor : body.floor,
          areaM2: body.area_m2 === undefined ? before.areaM2 : body.area_m2,
          description: body.description === undefined ? before.description : body.description,
          updatedAt: deps.now(),
        };
        await repo.updateRoom(store, room);
        deps.registry.changed();
        return roomJson(room, await sensorCount(room.name));
      },
    );

    http.delete<{ Params: { name: string } }>(
      '/api/v1/rooms/:name',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Remove a room: its sensors stay, unassigned, and no reading is deleted',
          tags: ['buildings'],
          params: nameParam,
        },
      },
      async (request, reply) => {
        if (!(await repo.deleteRoom(store, request.params.name, deps.now())))
          throw new NotFound(`room "${request.params.name.slice(0, 100)}" does not exist`, { field: 'name' });
        deps.registry.changed();
        reply.code(204);
      },
    );
  };

function checkedName(raw: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > 100)
    throw new InvalidInput('invalid_name', 'name must be 1 to 100 characters', { field: 'name' });
  return name;
}
