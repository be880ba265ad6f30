import type { FastifyPluginAsync } from 'fastify';
import type { ApiKeys } from '../../core/auth/api-keys.js';
import type { Bus } from '../../core/bus/index.js';
import { isEnergyUnit, isKnownUnit, KNOWN_UNITS } from '../../core/energy/units.js';
import { Conflict, InvalidInput, NotFound } from '../../core/errors.js';
import { READINGS_TOPIC, ReadingBatchBuilder, SERIES_KEY_PATTERN, SERIES_KINDS } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import { WINDOWS } from '../../core/time/buckets.js';
import { parseQueryParams, type ReadingsService, type SeriesEntry } from '../readings/index.js';
import { MAX_PAGE, newestFirst, timeField, timeRange } from './data-routes.js';
import { emitSensorEvent, type SensorChanged } from './events.js';
import * as repo from './repository.js';
import { isSensorType, SENSOR_TYPES, type SensorType } from './sensor-types.js';
import { type SensorStatus, sensorJson, sensorStatus } from './view.js';

export interface SensorsDeps {
  store: Store;
  bus: Bus;
  readings: ReadingsService;
  now: () => number;
  offlineAfterMs: number;
  timezone: string;
  keys: ApiKeys;
}

interface SensorBody {
  sensor_id?: string;
  name?: string;
  sensor_type?: string;
  room?: string | null;
  series?: string;
  unit?: string | null;
  kind?: string;
  tags?: Record<string, string>;
}

const sensorProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  sensor_type: { type: 'string', description: Object.keys(SENSOR_TYPES).join(', ') },
  room: { type: ['string', 'null'], description: 'A room that exists; null: none' },
  series: { type: 'string', description: 'The series holding its readings (default sensors/<sensor_id>)' },
  unit: { type: ['string', 'null'], description: `One of ${KNOWN_UNITS.join(', ')} (default: the type's)` },
  kind: { type: 'string', description: `${SERIES_KINDS.join(', ')} (default: the type's)` },
  tags: { type: 'object', additionalProperties: { type: 'string' } },
} as const;

const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' } },
} as const;

const badKey = (field: string, key: string) =>
  new InvalidInput(
    `invalid_${field}`,
    `${field} "${key.slice(0, 200)}" is not valid: letters, digits and _ . : / -, starting with a letter or digit, at most 200`,
    { field },
  );

/** Sensor CRUD, `/sensors/get` with filters, and a sensor's readings (`/sensors/{id}/data`). */
export const sensorsRoutes =
  (deps: SensorsDeps): FastifyPluginAsync =>
  async (http) => {
    const { store, readings } = deps;

    const entryOf = async (sensor: repo.Sensor) => (await readings.catalog([sensor.series]))[0];
    const show = (sensor: repo.Sensor, entry: SeriesEntry | undefined) =>
      sensorJson(sensor, entry, deps.now(), deps.offlineAfterMs);
    const found = async (id: string) => {
      const sensor = await repo.getSensor(store, id);
      if (!sensor) throw new NotFound(`sensor "${id.slice(0, 200)}" does not exist`, { field: 'sensor_id' });
      return sensor;
    };
    const emit = (type: SensorChanged['type'], sensor: ReturnType<typeof show>) =>
      emitSensorEvent(deps.bus, { type, sensor_id: sensor.sensor_id, sensor, at: new Date(deps.now()).toISOString() });

    /** Checks the room and writes unit and kind to the series' catalog entry. */
    async function placeSeries(
      sensor: repo.Sensor,
      body: SensorBody,
      existing: SeriesEntry | undefined,
      typeChanged = false,
    ) {
      if (sensor.room !== null && !(await repo.getRoom(store, sensor.room)))
        throw new InvalidInput('unknown_room', `room "${sensor.room.slice(0, 100)}" does not exist`, { field: 'room' });
      const defaults = SENSOR_TYPES[sensor.sensorType];
      // a series that already has a unit keeps it and its kind, unless the body or a new type says
      // otherwise; one created by ingest without a unit gets the type's
      const keep = existing !== undefined && existing.unit !== null && !typeChanged;
      const unit = body.unit !== undefined ? body.unit : keep ? existing.unit : defaults.unit;
      const kind = body.kind ?? (keep ? existing.kind : defaults.kind);
      if (typeof body.unit === 'string' && !isKnownUnit(body.unit))
        throw new InvalidInput(
          'unknown_unit',
          `unit "${body.unit.slice(0, 50)}" is not known: use one of ${KNOWN_UNITS.join(', ')}`,
          {
            field: 'unit',
          },
        );
      if (!(SERIES_KINDS as readonly string[]).includes(kind))
        throw new InvalidInput(
          'unknown_kind',
          `kind must be one of ${SERIES_KINDS.join(', ')} (got "${kind.slice(0, 50)}")`,
          {
            field: 'kind',
          },
        );
      if (kind !== 'gauge' && !isEnergyUnit(unit))
        throw new InvalidInput(
          'not_energy',
          `a ${kind} series holds energy: its unit must be Wh, kWh or MWh (it would be ${unit ?? 'none'})`,
          { field: body.unit !== undefined ? 'unit' : 'kind' },
        );
      if (!existing || unit !== existing.unit || kind !== existing.kind)
        await readings.describe([{ key: sensor.series, unit, kind: kind as (typeof SERIES_KINDS)[number] }]);
    }

    http.post<{ Body: SensorBody }>(
      '/api/v1/sensors',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Add a sensor',
          description:
            'Its series (default sensors/<sensor_id>) gets the unit and kind of its type unless the body says others. 409 when the id exists.',
          tags: ['buildings'],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['sensor_id', 'name', 'sensor_type'],
            properties: { sensor_id: { type: 'string' }, ...sensorProperties },
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const id = body.sensor_id!;
        if (!SERIES_KEY_PATTERN.test(id)) throw badKey('sensor_id', id);
        const sensorType = checkedType(body.sensor_type);
        const series = body.series ?? `sensors/${id}`;
        if (!SERIES_KEY_PATTERN.test(series)) throw badKey('series', series);
        const now = deps.now();
        const sensor: repo.Sensor = {
          sensorId: id,
          name: body.name!,
          sensorType,
          room: body.room ?? null,
          series,
          tags: body.tags ?? {},
          createdAt: now,
          updatedAt: now,
        };
        // the 409 before the catalog is touched (the insert checks again, in its transaction)
        if (await repo.getSensor(store, id)) throw new Conflict('sensor_exists', `sensor "${id}" exists`);
        await placeSeries(sensor, body, await entryOf(sensor));
        await repo.insertSensor(store, sensor);
        const shown = show(sensor, await entryOf(sensor));
        emit('sensor_created', shown);
        reply.code(201);
        return shown;
      },
    );

    http.get<{
      Querystring: { room?: string; sensor_type?: SensorType; status?: SensorStatus; limit: number; offset: number };
    }>(
      '/api/v1/sensors/get',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Sensors, filtered by room, type and status; count is every match, not the page',
          tags: ['buildings'],
          querystring: {
            type: 'object',
            properties: {
              room: { type: 'string' },
              sensor_type: { type: 'string', enum: Object.keys(SENSOR_TYPES) },
              status: { type: 'string', enum: ['online', 'offline', 'never'] },
              limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 },
              offset: { type: 'integer', minimum: 0, default: 0 },
            },
          },
        },
      },
      async (request) => {
        const { room, sensor_type: sensorType, status, limit, offset } = request.query;
        const sensors = await repo.listSensors(store, { room, sensorType });
        // one catalog call for all of them: status and last values come from memory
        const entries = new Map((await readings.catalog(sensors.map((s) => s.series))).map((e) => [e.key, e]));
        const now = deps.now();
        const matching = status
          ? sensors.filter((s) => sensorStatus(entries.get(s.series), now, deps.offlineAfterMs) === status)
          : sensors;
        return {
          sensors: matching.slice(offset, offset + limit).map((s) => show(s, entries.get(s.series))),
          count: matching.length,
        };
      },
    );

    http.get<{ Params: { id: string } }>(
      '/api/v1/sensors/:id',
      { config: { access: 'read' }, schema: { summary: 'A sensor', tags: ['buildings'], params: idParam } },
      async (request) => {
        const sensor = await found(request.params.id);
        return show(sensor, await entryOf(sensor));
      },
    );

    http.put<{ Params: { id: string }; Body: SensorBody }>(
      '/api/v1/sensors/:id',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Change a sensor: the fields given (room null unassigns it; another series moves it)',
          tags: ['buildings'],
          params: idParam,
          body: { type: 'object', additionalProperties: false, properties: sensorProperties },
        },
      },
      async (request) => {
        const before = await found(request.params.id);
        const body = request.body ?? {};
        if (body.series !== undefined && !SERIES_KEY_PATTERN.test(body.series)) throw badKey('series', body.series);
        const sensor: repo.Sensor = {
          ...before,
          name: body.name ?? before.name,
          sensorType: body.sensor_type === undefined ? before.sensorType : checkedType(body.sensor_type),
          room: body.room === undefined ? before.room : body.room,
          series: body.series ?? before.series,
          tags: body.tags ?? before.tags,
          updatedAt: deps.now(),
        };
        await placeSeries(sensor, body, await entryOf(sensor), sensor.sensorType !== before.sensorType);
        await repo.updateSensor(store, sensor);
        const shown = show(sensor, await entryOf(sensor));
        emit('sensor_updated', shown);
        return shown;
      },
    );

    http.delete<{ Params: { id: string }; Querystring: { purge?: boolean } }>(
      '/api/v1/sensors/:id',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Remove a sensor from the registry; its readings stay unless ?purge=true (admin key)',
          tags: ['buildings'],
          params: idParam,
          querystring: { type: 'object', properties: { purge: { type: 'boolean', default: false } } },
        },
      },
      async (request, reply) => {
        const purge = request.query.purge === true;
        // the route needs a write key; removing readings needs an admin one
        if (purge) await deps.keys.require(request.headers.authorization, 'admin');
        const sensor = await found(request.params.id);
        const shown = show(sensor, await entryOf(sensor));
        await repo.deleteSensor(store, sensor.sensorId);
        if (purge) await readings.deleteSeries(sensor.series);
        emit('sensor_deleted', shown);
        reply.code(204);
      },
    );

    http.get<{
      Params: { id: string };
      Querystring: {
        start_time?: string;
        end_time?: string;
        limit: number;
        offset: number;
        window?: string;
        agg?: string;
      };
    }>(
      '/api/v1/sensors/:id/data',
      {
        config: { access: 'read' },
        schema: {
          summary: "A sensor's readings, newest first; with window (and agg), its buckets oldest first",
          description: `start_time and end_time (inclusive): ISO 8601 or epoch numbers, default the 24 hours before now. limit 1–${MAX_PAGE} (default 100).`,
          tags: ['buildings'],
          params: idParam,
          querystring: {
            type: 'object',
            properties: {
              start_time: { type: 'string' },
              end_time: { type: 'string' },
              limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 },
              offset: { type: 'integer', minimum: 0, default: 0 },
              window: { type: 'string', description: Object.keys(WINDOWS).join(', ') },
              agg: { type: 'string', description: 'min max avg sum count first last increase integral (default avg)' },
            },
          },
        },
      },
      async (request) => {
        const q = request.query;
        const sensor = await found(request.params.id);
        const { startMs, endMs } = timeRange(q, deps.now());
        const iso = (ms: number) => new Date(ms).toISOString();
        if (q.window === undefined && q.agg === undefined) {
          const page = await newestFirst(readings, [sensor.series], {
            startMs,
            endMs,
            limit: q.limit,
            offset: q.offset,
          });
          return {
            sensor_id: sensor.sensorId,
            data: page.rows.map((r) => ({ timestamp: iso(r.ts), value: r.value })),
            total_count: page.total,
          };
        }
        // the readings query's own checks and names for window and agg
        const query = parseQueryParams({
          series: sensor.series,
          start: String(startMs),
          end: String(endMs),
          precision: 'ms',
          window: q.window ?? '',
          agg: q.agg,
          tz: deps.timezone,
        });
        const [result] = await readings.query(query);
        const points = result?.points ?? [];
        return {
          sensor_id: sensor.sensorId,
          window: query.window,
          agg: query.agg,
          data: points.slice(q.offset, q.offset + q.limit).map((p) => ({ timestamp: iso(p.ts), value: p.value })),
          total_count: points.length,
        };
      },
    );

    http.post<{ Params: { id: string }; Body: unknown }>(
      '/api/v1/sensors/:id/data',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Readings for a sensor: {value, timestamp} or a list of them (timestamp default now)',
          description:
            'Bad items get a 400 naming each by index and field; the good ones in the same request are kept (accepted).',
          tags: ['buildings'],
          params: idParam,
        },
      },
      async (request, reply) => {
        const sensor = await found(request.params.id);
        const items = Array.isArray(request.body) ? request.body : [request.body];
        const now = deps.now();
        const builder = new ReadingBatchBuilder(items.length);
        const invalid: { index: number; field: string; error: string }[] = [];
        items.forEach((item, index) => {
          const read = readingOf(item, now);
          if ('field' in read) invalid.push({ index, ...read });
          else builder.add({ series: sensor.series, ts: read.ts, value: read.value });
        });
        const batch = builder.take(false);
        if (batch.length) await deps.bus.publish(READINGS_TOPIC, batch);
        if (!invalid.length) return { accepted: batch.length };
        const [first] = invalid;
        reply.code(400);
        return {
          error: `item ${first.index}: ${first.error}`,
          code: 'invalid_reading',
          field: `${first.index}.${first.field}`,
          accepted: batch.length,
          invalid,
        };
      },
    );
  };

function checkedType(raw: string | undefined): SensorType {
  if (!isSensorType(raw))
    throw new InvalidInput(
      'unknown_sensor_type',
      `sensor_type must be one of ${Object.keys(SENSOR_TYPES).join(', ')} (got "${String(raw).slice(0, 50)}")`,
      { field: 'sensor_type' },
    );
  return raw;
}

/** An item of `POST /sensors/{id}/data`, or what is wrong with it. */
function readingOf(item: unknown, nowMs: number): { ts: number; value: number } | { field: string; error: string } {
  if (!item || typeof item !== 'object' || Array.isArray(item))
    return { field: 'value', error: 'an item is an object {value, timestamp}' };
  const { value, timestamp } = item as { value?: unknown; timestamp?: unknown };
  if (typeof value !== 'number' || !Number.isFinite(value))
    return { field: 'value', error: 'value must be a finite number' };
  try {
    return { ts: timeField(timestamp, 'timestamp', nowMs), value };
  } catch (err) {
    return { field: 'timestamp', error: (err as Error).message };
  }
}
