import type { SeriesEntry } from '../readings/index.js';
import type { Room, Sensor } from './repository.js';

export type SensorStatus = 'online' | 'offline' | 'never';

/** `online` while the last reading is at most `offlineAfterMs` old, `offline` after, `never` before the first. */
export function sensorStatus(entry: SeriesEntry | undefined, nowMs: number, offlineAfterMs: number): SensorStatus {
  if (!entry || !Number.isFinite(entry.lastTs)) return 'never';
  return nowMs - entry.lastTs <= offlineAfterMs ? 'online' : 'offline';
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A sensor as the API shows it (the seed's snake_case), its last reading from the series catalog. */
export function sensorJson(sensor: Sensor, entry: SeriesEntry | undefined, nowMs: number, offlineAfterMs: number) {
  const seen = entry && Number.isFinite(entry.lastTs);
  return {
    sensor_id: sensor.sensorId,
    name: sensor.name,
    sensor_type: sensor.sensorType,
    room: sensor.room,
    series: sensor.series,
    unit: entry?.unit ?? null,
    kind: entry?.kind ?? null,
    tags: sensor.tags,
    status: sensorStatus(entry, nowMs, offlineAfterMs),
    last_seen: seen ? iso(entry.lastTs) : null,
    last_value: seen ? entry.lastValue : null,
    created_at: iso(sensor.createdAt),
    updated_at: iso(sensor.updatedAt),
  };
}

/** A room as the API shows it; `metrics` are added by the routes that have them. */
export function roomJson(room: Room, sensorCount: number) {
  return {
    name: room.name,
    floor: room.floor,
    area_m2: room.areaM2,
    description: room.description,
    sensor_count: sensorCount,
    created_at: iso(room.createdAt),
    updated_at: iso(room.updatedAt),
  };
}
