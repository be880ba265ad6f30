import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, type ModuleContext } from '../../core/module.js';
import { READINGS_TOPIC, ReadingBatchBuilder } from '../../core/readings.js';
import { createClustering } from './clustering.js';
import { READING_FIELDS, type SensorEvent } from './event.js';
import { insertEvents } from './repository.js';
import { readRoutes, writeRoutes } from './routes.js';
import { type Settings, settings } from './settings.js';

/**
 * Sensor logs (energy-sensors): `POST /log/parse` returns a line's parsed event; `POST /log/store`
 * stores one event or many lines — each event in `sensor_events`, and its numbers as readings
 * `sensorlog/<device>/<field>`.
 * Every `sensorlog.clusterEvery` stored events, MeanShift clusters them (`/clusters/summary`).
 */
export const sensorlogModule = defineModule({
  name: 'sensorlog',
  settings,
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  create(ctx: ModuleContext<Settings>, _deps: unknown) {
    const { store, bus, log } = ctx;
    const { sensorlog } = ctx.settings;
    const clustering = createClustering({ store, log, every: sensorlog.clusterEvery });

    async function storeEvents(events: SensorEvent[]) {
      if (!events.length) return;
      await store.transaction((tx) => insertEvents(tx, events));
      const builder = new ReadingBatchBuilder(events.length * Object.keys(READING_FIELDS).length);
      for (const e of events) {
        for (const [field, prop] of Object.entries(READING_FIELDS)) {
          const value = e[prop];
          if (value !== null) builder.add({ series: `sensorlog/${e.deviceId}/${field}`, ts: e.reportedAtMs, value });
        }
      }
      await bus.publish(READINGS_TOPIC, builder.take(false));
      clustering.stored(events.length);
    }

    return {
      service: undefined,
      roles: {
        api: { routes: readRoutes(store) },
        ingest: {
          start: async () => {
            // events stored before this start and never clustered count towards the next run
            const [{ n }] = await store.query<{ n: number }>(
              `SELECT count(*) AS n FROM sensor_events WHERE cluster IS NULL`,
            );
            clustering.stored(n);
            return () => undefined;
          },
          routes: writeRoutes({
            open: sensorlog.open,
            maxLineBytes: sensorlog.maxLineBytes,
            maxBodyBytes: sensorlog.maxBodyBytes,
            storeEvents,
          }),
        },
      },
      close: () => clustering.stop(),
    };
  },
});
