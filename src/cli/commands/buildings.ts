import { type Command, InvalidArgumentError } from 'commander';
import type { Client } from '../client.js';
import { formatTable } from '../table.js';

/** A sensor as the API answers it (the fields the table shows). */
export interface SensorInfo {
  sensor_id: string;
  name: string;
  sensor_type: string;
  room: string | null;
  series: string;
  unit: string | null;
  status: string;
  last_seen: string | null;
  last_value: number | null;
}

export interface RoomInfo {
  name: string;
  floor: number | null;
  area_m2: number | null;
  sensor_count: number;
  metrics?: Record<string, number | string | null>;
}

const dash = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

/** One row per sensor: id, name, type, room, series, unit, status, last value and when. */
export function formatSensorsTable(sensors: readonly SensorInfo[]): string {
  return formatTable([
    ['id', 'name', 'type', 'room', 'series', 'unit', 'status', 'last-value', 'last-seen'],
    ...sensors.map((s) => [
      s.sensor_id,
      s.name,
      s.sensor_type,
      dash(s.room),
      s.series,
      dash(s.unit),
      s.status,
      dash(s.last_value),
      dash(s.last_seen),
    ]),
  ]);
}

/** One row per room: name, floor, area, sensors, and its latest power and temperature. */
export function formatRoomsTable(rooms: readonly RoomInfo[]): string {
  return formatTable([
    ['name', 'floor', 'area-m2', 'sensors', 'power-w', 'temperature-c'],
    ...rooms.map((r) => [
      r.name,
      dash(r.floor),
      dash(r.area_m2),
      String(r.sensor_count),
      dash(r.metrics?.power_w),
      dash(r.metrics?.temperature_c),
    ]),
  ]);
}

/** A number for --floor and --area (the server says whether it fits). */
const number = (raw: string) => {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
};

type ClientOpts = { url: string; key?: string };

/**
 * `wattline sensors ls|add|rm` and `wattline rooms ls|add|rm`: `withClient` adds --url and --key
 * to a command, `clientFrom` makes the client of its options.
 */
export function registerBuildingsCommands(
  program: Command,
  withClient: (cmd: Command) => Command,
  clientFrom: (opts: ClientOpts) => Client,
) {
  const sensors = program.command('sensors').description('the buildings sensor registry');
  withClient(
    sensors
      .command('ls')
      .description('list sensors: id, name, type, room, series, unit, status, last value')
      .option('--room <name>', 'only the sensors of this room')
      .option('--type <type>', 'only sensors of this type (power, energy, temperature…)')
      .option('--json', 'print the JSON reply'),
  ).action(async (opts: ClientOpts & { room?: string; type?: string; json?: boolean }) => {
    const query = new URLSearchParams({ limit: '10000' });
    if (opts.room !== undefined) query.set('room', opts.room);
    if (opts.type !== undefined) query.set('sensor_type', opts.type);
    const reply = await clientFrom(opts).json<{ sensors: SensorInfo[]; count: number }>(
      'GET',
      `/api/v1/sensors/get?${query}`,
    );
    console.log(opts.json ? JSON.stringify(reply, null, 2) : formatSensorsTable(reply.sensors));
  });

  withClient(
    sensors
      .command('add <id>')
      .description('add a sensor (needs a write key); its readings go to --series (default sensors/<id>)')
      .requiredOption('--type <type>', 'energy power temperature humidity co2 occupancy voltage current generic')
      .option('--name <name>', 'a label (default: the id)')
      .option('--room <name>', 'a room that exists')
      .option('--series <key>', 'the series holding its readings'),
  ).action(async (id: string, opts: ClientOpts & { type: string; name?: string; room?: string; series?: string }) => {
    const sensor = await clientFrom(opts).json<SensorInfo>('POST', '/api/v1/sensors', {
      sensor_id: id,
      name: opts.name ?? id,
      sensor_type: opts.type,
      room: opts.room,
      series: opts.series,
    });
    console.log(`added ${sensor.sensor_id} (${sensor.sensor_type}, series ${sensor.series})`);
  });

  withClient(
    sensors
      .command('rm <id>')
      .description('remove a sensor; its readings stay unless --purge (which needs an admin key)')
      .option('--purge', 'delete its readings too'),
  ).action(async (id: string, opts: ClientOpts & { purge?: boolean }) => {
    await clientFrom(opts).json(
      'DELETE',
      `/api/v1/sensors/${encodeURIComponent(id)}${opts.purge ? '?purge=true' : ''}`,
    );
    console.log(`removed ${id}${opts.purge ? ' and its readings' : ''}`);
  });

  const rooms = program.command('rooms').description('the buildings rooms');
  withClient(
    rooms
      .command('ls')
      .description('list rooms: name, floor, area, sensors, latest power and temperature')
      .option('--json', 'print the JSON reply'),
  ).action(async (opts: ClientOpts & { json?: boolean }) => {
    const reply = await clientFrom(opts).json<{ rooms: RoomInfo[] }>('GET', '/api/v1/rooms');
    console.log(opts.json ? JSON.stringify(reply, null, 2) : formatRoomsTable(reply.rooms));
  });

  withClient(
    rooms
      .command('add <name>')
      .description('add a room (needs a write key)')
      .option('--floor <n>', 'its floor (a whole number)', number)
      .option('--area <m2>', 'its area in m²', number)
      .option('--description <text>', 'in words'),
  ).action(async (name: string, opts: ClientOpts & { floor?: number; area?: number; description?: string }) => {
    await clientFrom(opts).json('POST', '/api/v1/rooms', {
      name,
      floor: opts.floor,
      area_m2: opts.area,
      description: opts.description,
    });
    console.log(`added room ${name}`);
  });

  withClient(
    rooms.command('rm <name>').description('remove a room; its sensors stay, unassigned, with their readings'),
  ).action(async (name: string, opts: ClientOpts) => {
    await clientFrom(opts).json('DELETE', `/api/v1/rooms/${encodeURIComponent(name)}`);
    console.log(`removed room ${name}`);
  });
}
