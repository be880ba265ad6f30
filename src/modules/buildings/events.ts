import type { Bus } from '../../core/bus/index.js';
import type { sensorJson } from './view.js';

/**
 * The seed's bus topics, so later modules react to buildings without reading its tables.
 * Both are broadcasts (live fan-out to every subscriber in every process, nothing stored): a
 * notice with no listener is simply not heard, where a work-queue publish would fail in-process
 * without a consumer and pile up in a stream on NATS.
 */
export const SENSOR_EVENTS = 'sensor_events';
export const ENERGY_DATA = 'energy_data';

export type SensorJson = ReturnType<typeof sensorJson>;

/** On `sensor_events`: a sensor was created, updated or deleted (its shape after, or before a delete). */
export interface SensorChanged {
  type: 'sensor_created' | 'sensor_updated' | 'sensor_deleted';
  sensor_id: string;
  sensor: SensorJson;
  /** ISO 8601 UTC. */
  at: string;
}

/** On `sensor_events`: a sensor went online (a reading arrived) or offline (none for `buildings.offlineAfterMs`). */
export interface SensorStatusChanged {
  type: 'sensor_online' | 'sensor_offline';
  sensor_id: string;
  at: string;
}

export type SensorEvent = SensorChanged | SensorStatusChanged;

/** On `energy_data`: a room's metrics were computed (the names are room-series.ts's metrics). */
export interface RoomMetricsEvent {
  type: 'room_metrics';
  room: string;
  metrics: Record<string, number | null>;
  /** ISO 8601 UTC: when they were computed (the stored readings' time). */
  at: string;
}

export function emitSensorEvent(bus: Bus, event: SensorEvent): void {
  bus.broadcast<SensorEvent>(SENSOR_EVENTS, event);
}

export function emitRoomMetrics(bus: Bus, event: RoomMetricsEvent): void {
  bus.broadcast<RoomMetricsEvent>(ENERGY_DATA, event);
}
