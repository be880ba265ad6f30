import type { FastifyPluginAsync } from 'fastify';
import { bucketEdges } from '../../core/energy/edges.js';
import { isPowerUnit } from '../../core/energy/units.js';
import type { Bus } from '../../core/bus/index.js';
import { InvalidInput } from '../../core/errors.js';
import type { Store } from '../../core/store/index.js';
import { formatTime } from '../../core/time/buckets.js';
import { energyParams, type ReadingsService } from '../readings/index.js';
import { getRoom, listRooms, listSensors, type Sensor } from './repository.js';
import { entriesOf, holdsEnergy, powerNow, type RoomMetricsAnswer } from './room-metrics.js';
import type { RegistrySnapshot } from './registry-snapshot.js';
import type { SummaryFigures } from './summary-figures.js';
import { sensorStatus } from './view.js';

/** What the running process is, for the overview (main.ts knows it; the module does not). */
export interface SystemInfo {
  version: string;
  roles: readonly string[];
  /** The modules started so far, in start order. */
  modules: () => { name: string; state: string }[];
}

export interface AnalyticsDeps {
  store: Store;
  bus: Bus;
  readings: ReadingsService;
  now: () => number;
  zone: string;
  offlineAfterMs: number;
  computeRoomMetrics: () => Promise<RoomMetricsAnswer[]>;
  /** The summary's figures (summary-figures.ts): finished slots kept between requests. */
  figures: SummaryFigures;
  /** Every room and sensor, read at most every few seconds (registry-snapshot.ts). */
  registry: RegistrySnapshot;
  system?: SystemInfo;
}

export const MAX_HOURS = 366 * 24;
/** Most buckets × energy sensors `/analytics/energy` works out (a year of hours for 28 sensors): each costs ~10 µs. */
const MAX_SENSOR_BUCKETS = 250_000;

/** Most buckets `/analytics/energy` answers (as the energy functions). */
const MAX_BUCKETS = 100_000;
const iso = (ms: number) => new Date(ms).toISOString();
const total = (values: Iterable<number>) => {
  let s = 0;
  for (const v of values) s += v;
  return s;
};

function parseHours(raw: unknown): number {
  if (raw === undefined || raw === '') return 24;
  const hours = typeof raw === 'string' ? Number(raw) : Number.NaN;
  if (!(hours > 0 && hours <= MAX_HOURS))
    throw new InvalidInput('invalid_hours', `hours must be a number of hours in (0, ${MAX_HOURS}]`, { field: 'hours' });
  return hours;
}

/**
 * `GET /api/v1/analytics/summary`, `GET /api/v1/analytics/energy`, `POST /api/v1/rooms/metrics` and
 * `GET /api/v1/overview`. No route reads the store per sensor: the registry in one query each, the
 * catalog (in memory) once, energy for every sensor in one energy call, peak power in one query.
 */
export const analyticsRoutes =
  (deps: AnalyticsDeps): FastifyPluginAsync =>
  async (http) => {
    const { store, readings } = deps;
    const startedMs = deps.now();

    http.get(
      '/api/v1/analytics/summary',
      {
        config: { access: 'read' },
        validatorCompiler: () => () => true,
        schema: {
          summary: 'Sensors, rooms, energy and peak power over the last hours',
          description:
            'total_readings: readings stored for the sensors (all time, from the catalog); energy over the period by the ' +
            "sensors' kinds; power_w: present power (as room metrics); peak_power_w: the highest sum over power sensors of " +
            'their max in a 15m bucket (1h beyond 48 hours, 1d beyond 31 days).',
          tags: ['buildings'],
          querystring: {
            type: 'object',
            properties: { hours: { type: 'number', default: 24, description: 'The period: the last this many hours' } },
          },
        },
      },
      async (request) => {
        const hours = parseHours((request.query as Record<string, unknown>).hours);
        const endMs = deps.now();
        // whole milliseconds: the readings plan takes no fraction (found by fuzzing: hours=0.0000001 was a 500)
        const startMs = endMs - Math.round(hours * 3_600_000);
        const { rooms, sensors } = await deps.registry.read();
        const entries = await entriesOf(readings, sensors);
        const gauges = [...entries.values()].filter((e) => e.kind === 'gauge' && isPowerUnit(e.unit));
        const meters = [...entries.values()].filter(holdsEnergy);
        // independent reads of the store: at once, not one after another
        const [{ energy, peak }, power] = await Promise.all([
          deps.figures.over({ meters, gauges, startMs, endMs, zone: deps.zone }),
          powerNow(deps, sensors, entries, endMs),
        ]);
        const byType = new Map<string, number>();
        for (const s of sensors) byType.set(s.sensorType, (byType.get(s.sensorType) ?? 0) + 1);
        const energyOf = (own: readonly Sensor[]) =>
          total([...new Set(own.map((s) => s.series))].map((k) => energy.get(k) ?? 0));

        return {
          total_sensors: sensors.length,
          online_sensors: sensors.filter(
            (s) => sensorStatus(entries.get(s.series), endMs, deps.offlineAfterMs) === 'online',
          ).length,
          total_rooms: rooms.length,
          total_readings: total([...entries.values()].map((e) => e.count)),
          total_energy_kwh: energyOf(sensors),
          peak_power_w: peak,
          by_room: rooms.map((room) => {
            const own = sensors.filter((s) => s.room === room.name);
            return {
              room: room.name,
              energy_kwh: energyOf(own),
              power_w: total(own.map((s) => power.get(s.sensorId) ?? 0)),
              sensors: own.length,
            };
          }),
          by_type: [...byType]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([sensor_type, count]) => ({ sensor_type, count })),
          period: { start: iso(startMs), end: iso(endMs) },
        };
      },
    );

    http.get(
      '/api/v1/analytics/energy',
      {
        config: { access: 'read' },
        validatorCompiler: () => () => true,
        schema: {
          summary: 'Energy (kWh) per bucket per room and in total, by the energy functions',
          description:
            "Counters by increase, power gauges by integral. `total` is every energy or power sensor's (those in no room too), or the room's with `room`.",
          tags: ['buildings'],
          querystring: {
            type: 'object',
            properties: {
              start: { type: 'string', description: 'ISO 8601 or an epoch number (inclusive)' },
              end: { type: 'string', description: 'ISO 8601 or an epoch number (exclusive)' },
              precision: { type: 'string', enum: ['s', 'ms', 'us', 'ns'] },
              window: { type: 'string', enum: ['1m', '5m', '15m', '30m', '1h', '1d', 'week', 'month'] },
              room: { type: 'string', description: 'Only this room' },
              tz: { type: 'string', description: "IANA time zone (default: the building's, `timezone`)" },
            },
          },
        },
      },
      async (request) => {
        const query = request.query as Record<string, unknown>;
        const p = energyParams({ ...query, tz: query.tz || deps.zone });
        const range = p.range();
        const roomName = p.text('room');
        if (roomName !== undefined && !(await getRoom(store, roomName)))
          throw new InvalidInput('unknown_room', `room "${roomName.slice(0, 100)}" does not exist`, { field: 'room' });
        const [rooms, sensors] = await Promise.all([
          roomName === undefined ? listRooms(store) : [],
          listSensors(store, roomName === undefined ? {} : { room: roomName }),
        ]);
        const edges = bucketEdges(range.startMs, range.endMs, range.window, range.zone, MAX_BUCKETS);
        if (edges.length - 1 > MAX_BUCKETS)
          throw new InvalidInput('too_many_buckets', `more than ${MAX_BUCKETS} buckets: use a wider window`, {
            field: 'window',
          });
        const entries = await entriesOf(readings, sensors);
        const keys = [...entries.keys()].filter((k) => holdsEnergy(entries.get(k)));
        // every energy sensor is worked out bucket by bucket: bound the work, not only the answer
        if ((edges.length - 1) * keys.length > MAX_SENSOR_BUCKETS)
          throw new InvalidInput(
            'too_many_buckets',
            `${edges.length - 1} ${range.window} buckets for ${keys.length} energy sensors is more than ${MAX_SENSOR_BUCKETS} in all: use a wider window or a shorter range`,
            { field: 'window' },
          );
        const results = keys.length ? await readings.energy.energy(keys, range, 'kWh') : [];
        const bySeries = new Map(results.map((r) => [r.series, r.buckets]));
        const sumOf = (own: readonly Sensor[]) => {
          const values: (number | null)[] = new Array(edges.length - 1).fill(null);
          for (const key of new Set(own.map((s) => s.series)))
            bySeries.get(key)?.forEach((b, i) => {
              if (b.value !== null) values[i] = (values[i] ?? 0) + b.value;
            });
          return {
            energy_kwh: total(values.map((v) => v ?? 0)),
            points: values.map((v, i) => ({ time: formatTime(edges[i], range.zone), energy_kwh: v })),
          };
        };
        const names = roomName === undefined ? rooms.map((r) => r.name) : [roomName];
        return {
          unit: 'kWh',
          start: iso(range.startMs),
          end: iso(range.endMs),
          window: range.window ?? null,
          tz: range.zone,
          rooms: names.map((room) => ({ room, ...sumOf(sensors.filter((s) => s.room === room)) })),
          total: sumOf(sensors),
        };
      },
    );

    http.post(
      '/api/v1/rooms/metrics',
      {
        config: { access: 'write' },
        schema: {
          summary: "Computes every room's metrics now, stores them as rooms/<room>/<metric> readings and answers them",
          tags: ['buildings'],
        },
      },
      async () => ({ rooms: await deps.computeRoomMetrics() }),
    );

    http.get(
      '/api/v1/overview',
      {
        config: { access: 'read' },
        schema: {
          summary: 'This process: modules and their state, counts, store, bus, uptime and version',
          tags: ['operations'],
        },
      },
      async () => {
        const [catalog, sensors, rooms, storeReady, busReady] = await Promise.all([
          readings.catalog(),
          listSensors(store),
          listRooms(store),
          store.ready(),
          deps.bus.ready(),
        ]);
        const version = deps.system?.version ?? null;
        return {
          name: 'Wattline',
          version,
          roles: deps.system?.roles ?? [],
          modules: deps.system?.modules() ?? [],
          counts: {
            series: catalog.length,
            sensors: sensors.length,
            rooms: rooms.length,
            readings: total(catalog.map((e) => e.count)),
          },
          store: { kind: store.kind, status: storeReady ? 'ok' : 'unavailable' },
          bus: { kind: deps.bus.kind, status: busReady ? 'ok' : 'unavailable' },
          uptime_s: Math.max(0, Math.round((deps.now() - startedMs) / 1000)),
        };
      },
    );
  };
