import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { fileURLToPath } from 'node:url';
import { defineModule, type ModuleContext } from '../../core/module.js';
import type { ReadingsService } from '../readings/index.js';
import { analyticsRoutes, type SystemInfo } from './analytics-routes.js';
import { every } from '../../core/schedule.js';
import { createStatusWatch } from './metrics-job.js';
import { emitSensorEvent } from './events.js';
import { getSensors, insertMissingSensors } from './repository.js';
import { createRoomMetrics, type RoomMetricsAnswer } from './room-metrics.js';
import type { SensorType } from './sensor-types.js';
import { sensorJson } from './view.js';
import { dataRoutes } from './data-routes.js';
import { roomsRoutes } from './rooms-routes.js';
import { sensorsRoutes } from './sensors-routes.js';
import { createRegistrySnapshot } from './registry-snapshot.js';
import { createSummaryFigures } from './summary-figures.js';
import { type Settings, settings } from './settings.js';
import { wsRoutes } from './ws.js';

/** What other modules may ask of buildings. */
export type { SensorType } from './sensor-types.js';

export interface BuildingsService {
  /** Every room's metrics now, stored as `rooms/<room>/<metric>` readings. */
  computeRoomMetrics: () => Promise<RoomMetricsAnswer[]>;
  /**
   * Registers the sensors not registered yet (unassigned to a room; one already registered is left
   * as its user made it) and announces each on `sensor_events`; answers the ids added. For
   * adapters whose devices become sensors the first time they report.
   */
  ensureSensors(
    sensors: readonly {
      sensorId: string;
      name: string;
      sensorType: SensorType;
      series: string;
      tags?: Record<string, string>;
    }[],
  ): Promise<string[]>;
  /** The registered sensors among `sensorIds` with their series and type (unknown ids are left out), by id. */
  sensorsById(sensorIds: readonly string[]): Promise<{ sensorId: string; series: string; sensorType: SensorType }[]>;
}

/** What the buildings module needs of others, and the clock it reads (tests inject one). */
export interface BuildingsDeps {
  readings: ReadingsService;
  now: () => number;
  /** What main.ts knows of the process (version, roles, modules), for `GET /api/v1/overview`. */
  system?: SystemInfo;
}

/**
 * Buildings (the Energy Dashboard's sensors module): a registry of sensors grouped into rooms, each
 * sensor's readings a Wattline series; room metrics, analytics and a live WebSocket on top.
 * Sensors and rooms live in the module's own tables (repository.ts); a sensor's last value and
 * time come from the series catalog.
 */
/** How old the rooms and sensors behind `/rooms` and the summary may be when another process changed a room. */
const REGISTRY_MAX_AGE_MS = 2_000;

export const buildingsModule = defineModule({
  name: 'buildings',
  settings,
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  create(ctx: ModuleContext<Settings>, deps: BuildingsDeps) {
    const { store, bus, log, keys } = ctx;
    const { offlineAfterMs, roomMetricsMs, summaryKeepMs } = ctx.settings.buildings;
    const { readings, now } = deps;
    const shared = { store, bus, readings, now, offlineAfterMs };
    const computeRoomMetrics = createRoomMetrics({ ...shared, zone: ctx.core.timezone });
    const checkSensorStatus = createStatusWatch(shared);
    const figures = createSummaryFigures(readings, { ttlMs: summaryKeepMs, now });
    const registry = createRegistrySnapshot(store, bus, REGISTRY_MAX_AGE_MS);
    const service: BuildingsService = {
      computeRoomMetrics,
      async ensureSensors(wanted) {
        const at = now();
        const added = await insertMissingSensors(
          store,
          wanted.map((s) => ({ ...s, room: null, tags: s.tags ?? {}, createdAt: at, updatedAt: at })),
        );
        for (const sensor of added)
          emitSensorEvent(bus, {
            type: 'sensor_created',
            sensor_id: sensor.sensorId,
            sensor: sensorJson(sensor, undefined, at, offlineAfterMs),
            at: new Date(at).toISOString(),
          });
        return added.map((s) => s.sensorId);
      },
      async sensorsById(sensorIds) {
        return (await getSensors(store, sensorIds)).map(({ sensorId, series, sensorType }) => ({
          sensorId,
          series,
          sensorType,
        }));
      },
    };
    return {
      service,
      roles: {
        api: {
          // kept summary figures are dropped by the commit notices that change them, the registry
          // snapshot by sensor changes
          start: () => {
            const stops = [figures.follow(bus), registry.follow()];
            return () => {
              for (const stop of stops) stop();
            };
          },
          routes: async (http: FastifyInstance) => {
            await http.register(sensorsRoutes({ ...shared, keys, timezone: ctx.core.timezone }));
            await http.register(roomsRoutes({ store, readings, now, registry }));
            await http.register(dataRoutes({ store, readings, now }));
            await http.register(
              analyticsRoutes({
                ...shared,
                zone: ctx.core.timezone,
                computeRoomMetrics,
                figures,
                registry,
                system: deps.system,
              }),
            );
            await http.register(wsRoutes(ctx, store));
          },
        },
        jobs: {
          // one schedule: sensors going offline/online, then room metrics
          start: () =>
            every(
              roomMetricsMs,
              'room metrics run',
              async () => {
                await checkSensorStatus();
                await computeRoomMetrics();
              },
              log,
            ),
        },
      },
    };
  },
});
