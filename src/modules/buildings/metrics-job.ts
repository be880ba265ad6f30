import { emitSensorEvent } from './events.js';
import type { Bus } from '../../core/bus/index.js';
import type { Store } from '../../core/store/index.js';
import type { ReadingsService } from '../readings/index.js';
import { listSensors } from './repository.js';
import { entriesOf } from './room-metrics.js';
import { type SensorStatus, sensorStatus } from './view.js';

/**
 * Watches sensors go offline and online: each `check` compares every sensor's status with the one
 * the previous check saw and broadcasts `{type:'sensor_offline'|'sensor_online', sensor_id, at}` on
 * `sensor_events` for each change. The first check only records; a sensor added since counts as
 * `never` before, so its first reading is a `sensor_online`.
 */
export function createStatusWatch(ctx: {
  store: Store;
  bus: Bus;
  readings: ReadingsService;
  now: () => number;
  offlineAfterMs: number;
}) {
  let previous: Map<string, SensorStatus> | undefined;
  return async function check(): Promise<void> {
    const nowMs = ctx.now();
    const sensors = await listSensors(ctx.store);
    const entries = await entriesOf(ctx.readings, sensors);
    const current = new Map(
      sensors.map((s) => [s.sensorId, sensorStatus(entries.get(s.series), nowMs, ctx.offlineAfterMs)]),
    );
    const at = new Date(nowMs).toISOString();
    if (previous) {
      for (const [sensorId, status] of current) {
        const before = previous.get(sensorId) ?? 'never';
        if (status === before || status === 'never') continue;
        const type = status === 'online' ? 'sensor_online' : 'sensor_offline';
        emitSensorEvent(ctx.bus, { type, sensor_id: sensorId, at });
      }
    }
    previous = current;
  };
}
