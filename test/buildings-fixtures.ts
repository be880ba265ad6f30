import { insertRoom, insertSensor } from '../src/modules/buildings/repository.js';
import { SENSOR_TYPES, type SensorType } from '../src/modules/buildings/sensor-types.js';
import type { TestApp } from './helpers.js';

/** Adds a room through the registry's repository (for tests of what is built on the registry). */
export async function addRoom(w: TestApp, name: string) {
  await insertRoom(w.app.ctx.store, { name, floor: null, areaM2: null, description: null, createdAt: 0, updatedAt: 0 });
}

/** Adds a sensor on `sensors/<id>`, its series described with its type's unit and kind. */
export async function addSensor(w: TestApp, sensorId: string, sensorType: SensorType, room: string | null) {
  const series = `sensors/${sensorId}`;
  await w.app.readings.describe([{ key: series, ...SENSOR_TYPES[sensorType] }]);
  await insertSensor(w.app.ctx.store, {
    sensorId,
    name: sensorId,
    sensorType,
    room,
    series,
    tags: {},
    createdAt: 0,
    updatedAt: 0,
  });
}
