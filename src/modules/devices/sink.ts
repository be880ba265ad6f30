import type { Bus } from '../../core/bus/index.js';
import type { Logger } from '../../core/log.js';
import { READINGS_TOPIC, ReadingBatchBuilder } from '../../core/readings.js';
import type { Store } from '../../core/store/index.js';
import type { BuildingsService } from '../buildings/index.js';
import type { Availability, DeviceReading } from './format.js';
import { type Device, touchDevices } from './repository.js';

/** A device's registry row is written at most this often per device (a message every second would be a write each). */
const TOUCH_EVERY_MS = 10_000;

/** Where a batch of device readings came from. */
export interface Origin {
  /** The payload family (a format name, `emoncms`, `http-json`…). */
  family: string;
  source: Device['source'];
  /** Series are `<prefix>/<device>/<quantity>`. */
  prefix: string;
}

/** A series key segment from a device name: characters a key cannot hold become `_`. */
export const keySegment = (name: string) => name.replace(/[^A-Za-z0-9_.:/-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '');

/**
 * `<prefix>/<device>`: the device's id in the registry and the start of its series' keys (an empty
 * prefix: the device alone, for Wattline's json format whose series keys are the payload's own).
 */
export const deviceId = (prefix: string, device: string) =>
  prefix ? `${prefix}/${keySegment(device)}` : keySegment(device);

/** Series keys already worked out, by prefix, device and quantity (bounded: past the limit it starts over). */
const knownSeries = new Map<string, string>();
const MAX_KNOWN_SERIES = 100_000;

/** The series of one quantity of a device (the same few keys for every message of a device: remembered). */
export function seriesOf(prefix: string, r: Pick<DeviceReading, 'device' | 'quantity'>): string {
  const name = `${prefix}\0${r.device}\0${r.quantity}`;
  let series = knownSeries.get(name);
  if (series === undefined) {
    series = `${deviceId(prefix, r.device)}/${keySegment(r.quantity)}`;
    if (knownSeries.size >= MAX_KNOWN_SERIES) knownSeries.clear();
    knownSeries.set(name, series);
  }
  return series;
}

/** A sensor id from its series key (ids are one URL path segment: no `/`). */
export const sensorIdOf = (series: string) => series.replaceAll('/', '_');

/**
 * Where every device adapter (MQTT, polling, Emoncms) puts what devices said: readings published on
 * the readings topic with their unit and kind (resolved once committed, or durable in JetStream:
 * only then may the adapter acknowledge its source), each new quantity registered once as a
 * sensor of the buildings module, and the device noted in the registry.
 */
export function createDeviceSink(deps: {
  bus: Bus;
  store: Store;
  buildings: BuildingsService;
  log: Logger;
  now: () => number;
}) {
  const ensured = new Set<string>();
  const touched = new Map<string, { at: number; online: boolean | undefined }>();

  async function write(readings: readonly DeviceReading[], origin: Origin, availability: readonly Availability[] = []) {
    if (readings.length) {
      const builder = new ReadingBatchBuilder(readings.length);
      const newSensors: Parameters<BuildingsService['ensureSensors']>[0][number][] = [];
      for (const r of readings) {
        const series = seriesOf(origin.prefix, r);
        let keyId = builder.keyId(series);
        if (keyId === undefined) {
          keyId = builder.addKey(series);
          builder.setMeta(keyId, { unit: r.unit ?? undefined, kind: r.kind });
          const sensorId = sensorIdOf(series);
          if (!ensured.has(sensorId))
            newSensors.push({ sensorId, name: `${r.device} ${r.quantity}`, sensorType: r.sensorType, series });
        }
        builder.push(keyId, r.ts, r.value);
      }
      // the readings first: a sensor is registered once its series holds what it reported; the
      // device registry meanwhile (its own table, its own transaction)
      const batch = builder.take(false);
      await Promise.all([
        deps.bus.publish(READINGS_TOPIC, batch).then(async () => {
          if (!newSensors.length) return;
          await deps.buildings.ensureSensors(newSensors);
          for (const s of newSensors) ensured.add(s.sensorId);
        }),
        note(readings, origin, availability),
      ]);
      return;
    }
    await note(readings, origin, availability);
  }

  /** The registry: devices seen, at most once per device every TOUCH_EVERY_MS unless availability changed. */
  async function note(readings: readonly DeviceReading[], origin: Origin, availability: readonly Availability[]) {
    const now = deps.now();
    const due = new Map<
      string,
      { deviceId: string; family: string; source: Device['source']; at: number; online?: boolean }
    >();
    // a message's readings come together: its device's id is worked out once for them
    let device: string | undefined;
    let id = '';
    for (const r of readings) {
      if (r.device !== device) id = deviceId(origin.prefix, (device = r.device));
      const last = touched.get(id);
      if (!last || now - last.at >= TOUCH_EVERY_MS)
        due.set(id, {
          deviceId: id,
          family: origin.family,
          source: origin.source,
          at: Math.max(due.get(id)?.at ?? 0, r.ts),
        });
    }
    for (const a of availability) {
      const id = deviceId(origin.prefix, a.device);
      if (touched.get(id)?.online === a.online && due.get(id) === undefined) continue;
      due.set(id, { deviceId: id, family: origin.family, source: origin.source, at: a.ts, online: a.online });
    }
    if (!due.size) return;
    await touchDevices(deps.store, [...due.values()]);
    for (const d of due.values())
      touched.set(d.deviceId, { at: now, online: d.online ?? touched.get(d.deviceId)?.online });
  }

  return { write };
}

export type DeviceSink = ReturnType<typeof createDeviceSink>;
