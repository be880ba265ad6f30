import type { SeriesKind } from '../../core/readings.js';

/** The kinds of sensor a building has, and the unit and kind their series get unless told otherwise. */
export const SENSOR_TYPES = {
  energy: { unit: 'kWh', kind: 'counter' },
  power: { unit: 'W', kind: 'gauge' },
  temperature: { unit: '°C', kind: 'gauge' },
  humidity: { unit: '%', kind: 'gauge' },
  co2: { unit: null, kind: 'gauge' }, // ppm is not among the catalog's units yet
  occupancy: { unit: null, kind: 'gauge' },
  voltage: { unit: 'V', kind: 'gauge' },
  current: { unit: 'A', kind: 'gauge' },
  generic: { unit: null, kind: 'gauge' },
} as const satisfies Record<string, { unit: string | null; kind: SeriesKind }>;

export type SensorType = keyof typeof SENSOR_TYPES;

export function isSensorType(value: unknown): value is SensorType {
  return typeof value === 'string' && Object.hasOwn(SENSOR_TYPES, value);
}
