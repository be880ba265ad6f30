import { DateTime } from 'luxon';
import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput } from '../../core/errors.js';
import { defineModule, type ModuleContext } from '../../core/module.js';
import { parseDateParam } from '../../core/time/dates.js';
import type { ReadingsService } from '../readings/index.js';

/** The vehicle's sensors, as cloud-lada's devices name them. */
const SENSORS = [
  'speed',
  'fuel',
  'revolution',
  'engine_temperature',
  'location_latitude',
  'location_longitude',
] as const;
const QUARTER_MS = 15 * 60_000;

/**
 * cloud-lada's read API over the readings: latest statistics and location, a day of one sensor in
 * 96 fifteen-minute averages (UTC day, empty quarters 0), and the time of the last reading.
 */
export const ladaModule = defineModule({
  name: 'lada',
  create: (
    _ctx: ModuleContext<unknown>,
    { readings }: { readings: Pick<ReadingsService, 'query' | 'catalog' | 'lastReadingTs'> },
  ) => ({
    service: undefined,
    roles: { api: { routes: ladaRoutes(readings) } },
  }),
});

/** The four read endpoints, at cloud-lada's paths (reads: open unless read keys are required). */
const ladaRoutes =
  (readings: Pick<ReadingsService, 'query' | 'catalog' | 'lastReadingTs'>): FastifyPluginAsync =>
  async (http) => {
    const latest = async (keys: readonly string[]) => {
      const entries = await readings.catalog(keys);
      // a sensor that never reported answers 0, as cloud-lada did
      return (key: string) => {
        const e = entries.find((x) => x.key === key);
        return e && Number.isFinite(e.lastTs) ? e.lastValue : 0;
      };
    };
    const tags = ['cloud-lada'];

    http.get(
      '/api/statistics/latest',
      { schema: { summary: 'Latest speed, fuel, engine temperature and revolutions', tags } },
      async () => {
        const value = await latest(['speed', 'fuel', 'engine_temperature', 'revolution']);
        return {
          speed: value('speed'),
          fuel: value('fuel'),
          engineTemperature: value('engine_temperature'),
          revolutions: value('revolution'),
        };
      },
    );

    http.get('/api/location/latest', { schema: { summary: 'Latest position', tags } }, async () => {
      const value = await latest(['location_latitude', 'location_longitude']);
      return { latitude: value('location_latitude'), longitude: value('location_longitude') };
    });

    http.get<{ Params: { sensor: string; date: string } }>(
      '/api/statistics/sensor/:sensor/date/:date',
      { schema: { summary: 'A UTC day of one sensor in 96 fifteen-minute averages (empty ones 0)', tags } },
      async (request) => {
        const { sensor, date } = request.params;
        if (!(SENSORS as readonly string[]).includes(sensor))
          throw new InvalidInput(
            'invalid_sensor',
            `sensor must be one of ${SENSORS.join(', ')} (got "${sensor.slice(0, 40)}")`,
            { field: 'sensor' },
          );
        const startMs = DateTime.fromISO(parseDateParam(date, 'date'), { zone: 'utc' }).toMillis();
        const [result] = await readings.query({
          series: [sensor],
          startMs,
          endMs: startMs + 96 * QUARTER_MS - 1,
          window: '15m',
          agg: 'avg',
          fill: '0',
        });
        return result.points.map((p) => ({ sensor, value: p.value ?? 0, timestamp: new Date(p.ts).toISOString() }));
      },
    );

    http.get('/api/status', { schema: { summary: 'When the last reading was taken', tags } }, async () => {
      const last = await readings.lastReadingTs();
      return { lastIngestTimestamp: Number.isFinite(last) ? new Date(last).toISOString() : null };
    });
  };
