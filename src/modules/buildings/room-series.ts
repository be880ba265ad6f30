/**
 * Where a room's metrics are stored: readings of `rooms/<room>/<metric>`, so they chart like any
 * series. A room name may hold characters a series key may not (spaces, accents): each run of them
 * becomes `_` ("Meeting Room 2" → `rooms/Meeting_Room_2/power_w`).
 */
export const ROOM_METRICS = {
  power_w: { unit: 'W', kind: 'gauge' },
  energy_today_kwh: { unit: 'kWh', kind: 'gauge' },
  temperature_c: { unit: '°C', kind: 'gauge' },
  humidity_pct: { unit: '%', kind: 'gauge' },
  co2_ppm: { unit: null, kind: 'gauge' },
  occupancy: { unit: null, kind: 'gauge' },
} as const;
export type RoomMetric = keyof typeof ROOM_METRICS;

export function roomSlug(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:-]+/g, '_').replace(/^_+/, '') || '_';
}

export function roomSeriesKey(room: string, metric: RoomMetric): string {
  return `rooms/${roomSlug(room)}/${metric}`;
}
