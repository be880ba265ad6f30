import type { Bus } from '../../core/bus/index.js';
import type { Store } from '../../core/store/index.js';
import { SENSOR_EVENTS } from './events.js';
import { listRooms, listSensors, type Room, type Sensor } from './repository.js';

export interface Registry {
  rooms: Room[];
  sensors: Sensor[];
}

/**
 * Every room and sensor, for the routes that read them all on each request (`/rooms`, the
 * analytics summary): read from the store at most once per `maxAgeMs` (process time, not the
 * injectable clock). Dropped at once when this process changes a room or sensor (`changed`) and when
 * any process announces a sensor change on `sensor_events`; a change another process made to a
 * room shows within `maxAgeMs`.
 */
export function createRegistrySnapshot(store: Store, bus: Bus, maxAgeMs: number) {
  let held: { atMs: number; read: Promise<Registry> } | undefined;

  function read(): Promise<Registry> {
    if (held && performance.now() - held.atMs < maxAgeMs) return held.read;
    const reading = Promise.all([listRooms(store), listSensors(store)]).then(([rooms, sensors]) => ({
      rooms,
      sensors,
    }));
    const entry = { atMs: performance.now(), read: reading };
    held = entry;
    reading.catch(() => {
      if (held === entry) held = undefined; // a failed read is not kept
    });
    return reading;
  }

  const changed = () => {
    held = undefined;
  };

  return {
    read,
    changed,
    /** Follows `sensor_events` from every process; returns how to stop. */
    follow() {
      return bus.subscribe(SENSOR_EVENTS, changed);
    },
  };
}

export type RegistrySnapshot = ReturnType<typeof createRegistrySnapshot>;
