import { Conflict } from '../../core/errors.js';
import type { Store, StoreTx } from '../../core/store/index.js';
import type { SensorType } from './sensor-types.js';

/** SQL for the buildings module's own tables (building_rooms, building_sensors); no other module reads them. */

export interface Room {
  name: string;
  floor: number | null;
  areaM2: number | null;
  description: string | null;
  /** UTC epoch ms. */
  createdAt: number;
  updatedAt: number;
}

export interface Sensor {
  sensorId: string;
  name: string;
  sensorType: SensorType;
  room: string | null;
  series: string;
  tags: Record<string, string>;
  /** UTC epoch ms. */
  createdAt: number;
  updatedAt: number;
}

const ROOM_COLUMNS = `name, floor, area_m2 AS "areaM2", description, created_at AS "createdAt", updated_at AS "updatedAt"`;
const SENSOR_COLUMNS = `sensor_id AS "sensorId", name, sensor_type AS "sensorType", room, series, tags,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

type SensorRow = Omit<Sensor, 'tags'> & { tags: string };
const sensorOf = (r: SensorRow): Sensor => ({ ...r, tags: JSON.parse(r.tags) as Record<string, string> });

export async function listRooms(store: Store): Promise<Room[]> {
  return store.query<Room>(`SELECT ${ROOM_COLUMNS} FROM building_rooms ORDER BY name`);
}

export async function getRoom(store: Store | StoreTx, name: string): Promise<Room | undefined> {
  const [room] = await store.query<Room>(`SELECT ${ROOM_COLUMNS} FROM building_rooms WHERE name = $1`, [name]);
  return room;
}

/** Adds a room; a Conflict when one of that name exists. */
export async function insertRoom(store: Store, room: Room): Promise<void> {
  await store.transaction(async (tx) => {
    if (await getRoom(tx, room.name)) throw new Conflict('room_exists', `room "${room.name}" exists`);
    await tx.run(
      `INSERT INTO building_rooms (name, floor, area_m2, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [room.name, room.floor, room.areaM2, room.description, room.createdAt, room.updatedAt],
    );
  });
}

export async function updateRoom(store: Store, room: Room): Promise<void> {
  await store.transaction((tx) =>
    tx.run(`UPDATE building_rooms SET floor = $2, area_m2 = $3, description = $4, updated_at = $5 WHERE name = $1`, [
      room.name,
      room.floor,
      room.areaM2,
      room.description,
      room.updatedAt,
    ]),
  );
}

/** Removes a room and leaves its sensors unassigned (their readings are untouched); false when there was none. */
export async function deleteRoom(store: Store, name: string, nowMs: number): Promise<boolean> {
  return store.transaction(async (tx) => {
    if (!(await getRoom(tx, name))) return false;
    await tx.run(`UPDATE building_sensors SET room = NULL, updated_at = $2 WHERE room = $1`, [name, nowMs]);
    await tx.run(`DELETE FROM building_rooms WHERE name = $1`, [name]);
    return true;
  });
}

export interface SensorFilter {
  room?: string;
  sensorType?: SensorType;
}

/** Sensors by id, optionally of one room or type (paging and status filtering are the caller's: status needs the catalog). */
export async function listSensors(store: Store, filter: SensorFilter = {}): Promise<Sensor[]> {
  const where: string[] = [];
  const params: string[] = [];
  if (filter.room !== undefined) where.push(`room = $${params.push(filter.room)}`);
  if (filter.sensorType !== undefined) where.push(`sensor_type = $${params.push(filter.sensorType)}`);
  const rows = await store.query<SensorRow>(
    `SELECT ${SENSOR_COLUMNS} FROM building_sensors ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY sensor_id`,
    params,
  );
  return rows.map(sensorOf);
}

export async function getSensor(store: Store | StoreTx, sensorId: string): Promise<Sensor | undefined> {
  const [row] = await store.query<SensorRow>(`SELECT ${SENSOR_COLUMNS} FROM building_sensors WHERE sensor_id = $1`, [
    sensorId,
  ]);
  return row && sensorOf(row);
}

/** The registered sensors among `sensorIds`, by id (ids not registered are left out). */
export async function getSensors(store: Store, sensorIds: readonly string[]): Promise<Sensor[]> {
  if (!sensorIds.length) return [];
  const placeholders = sensorIds.map((_, i) => `$${i + 1}`).join(', ');
  const rows = await store.query<SensorRow>(
    `SELECT ${SENSOR_COLUMNS} FROM building_sensors WHERE sensor_id IN (${placeholders}) ORDER BY sensor_id`,
    sensorIds,
  );
  return rows.map(sensorOf);
}

/** Adds a sensor; a Conflict when one with that id exists. */
export async function insertSensor(store: Store, sensor: Sensor): Promise<void> {
  await store.transaction(async (tx) => {
    if (await getSensor(tx, sensor.sensorId)) throw new Conflict('sensor_exists', `sensor "${sensor.sensorId}" exists`);
    await insertRow(tx, sensor);
  });
}

/** Sensors one INSERT statement holds at most (8 parameters each). */
const INSERT_CHUNK = 500;

const insertRow = (tx: StoreTx, sensor: Sensor) => insertRows(tx, [sensor], false);

/** Sensor rows in one statement; with `skipExisting` an id already there is left as it is. */
function insertRows(tx: StoreTx, sensors: readonly Sensor[], skipExisting = true) {
  const values = sensors.map((_, i) => `(${Array.from({ length: 8 }, (_, k) => `$${i * 8 + k + 1}`).join(', ')})`);
  return tx.run(
    `INSERT INTO building_sensors (sensor_id, name, sensor_type, room, series, tags, created_at, updated_at)
     VALUES ${values.join(', ')}${skipExisting ? ' ON CONFLICT (sensor_id) DO NOTHING' : ''}`,
    sensors.flatMap((sensor) => [
      sensor.sensorId,
      sensor.name,
      sensor.sensorType,
      sensor.room,
      sensor.series,
      JSON.stringify(sensor.tags),
      sensor.createdAt,
      sensor.updatedAt,
    ]),
  );
}

export async function updateSensor(store: Store, sensor: Sensor): Promise<void> {
  await store.transaction((tx) =>
    tx.run(
      `UPDATE building_sensors SET name = $2, sensor_type = $3, room = $4, series = $5, tags = $6, updated_at = $7
       WHERE sensor_id = $1`,
      [
        sensor.sensorId,
        sensor.name,
        sensor.sensorType,
        sensor.room,
        sensor.series,
        JSON.stringify(sensor.tags),
        sensor.updatedAt,
      ],
    ),
  );
}

/** Removes a sensor from the registry (its readings stay); false when there was none. */
export async function deleteSensor(store: Store, sensorId: string): Promise<boolean> {
  return store.transaction(async (tx) => {
    if (!(await getSensor(tx, sensorId))) return false;
    await tx.run(`DELETE FROM building_sensors WHERE sensor_id = $1`, [sensorId]);
    return true;
  });
}

/** Adds the sensors whose id is not registered yet (others are left as they are); answers those added. */
export async function insertMissingSensors(store: Store, sensors: readonly Sensor[]): Promise<Sensor[]> {
  if (!sensors.length) return [];
  return store.transaction(async (tx) => {
    const ids = sensors.map((s) => s.sensorId);
    const placeholders = ids.map((_, i) => `$${i + 1}`).join(', ');
    const known = new Set(
      (
        await tx.query<{ sensorId: string }>(
          `SELECT sensor_id AS "sensorId" FROM building_sensors WHERE sensor_id IN (${placeholders})`,
          ids,
        )
      ).map((r) => r.sensorId),
    );
    const added: Sensor[] = [];
    for (const sensor of sensors) {
      if (known.has(sensor.sensorId)) continue;
      known.add(sensor.sensorId);
      added.push(sensor);
    }
    // many at once (500 new devices' quantities): one statement per chunk, not a round trip each
    for (let i = 0; i < added.length; i += INSERT_CHUNK) await insertRows(tx, added.slice(i, i + INSERT_CHUNK));
    return added;
  });
}
