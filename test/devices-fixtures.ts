import fs from 'node:fs';
import path from 'node:path';
import type { DeviceReading, FormatName, MessageContext, Parsed } from '../src/modules/devices/format.js';
import { FORMATS } from '../src/modules/devices/formats/index.js';
import { seriesOf } from '../src/modules/devices/sink.js';

/** One recorded MQTT message: the payload as sent (objects were JSON). */
export interface Message {
  topic: string;
  payload: Buffer;
}

/** The messages of `test/fixtures/devices/<name>.json`, written from the vendors' documented examples. */
export function recorded(name: string): Message[] {
  const file = path.join(import.meta.dirname, 'fixtures', 'devices', `${name}.json`);
  const list = JSON.parse(fs.readFileSync(file, 'utf8')) as { topic: string; payload: unknown }[];
  return list.map(({ topic, payload }) => ({
    topic,
    payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  }));
}

/** A subscriber's view of one subscription: parses messages as the MQTT subscriber will, state kept between them. */
export function subscription(format: FormatName, filter: string, zone = 'Europe/London') {
  const state = new Map<string, unknown>();
  const parser = FORMATS[format];
  if (!parser) throw new Error(`no format ${format}`);
  return {
    state,
    context: (topic: string, receivedMs: number): MessageContext => ({ topic, filter, zone, receivedMs, state }),
    parse: (m: Message, receivedMs = Date.UTC(2024, 5, 3, 17, 5, 1)): Parsed =>
      parser.parse(m.payload, { topic: m.topic, filter, zone, receivedMs, state }),
  };
}

/** `quantity → value` of a parse, to compare with what the device's payload said. */
export const values = (parsed: Parsed) => Object.fromEntries(parsed.readings.map((r) => [r.quantity, r.value]));

/**
 * Readings by series key with all they say (unit, kind, sensor type, value, time): what must be the
 * same whether a device's payload came over MQTT or from a poll.
 */
export const bySeries = (readings: readonly DeviceReading[], omit: readonly (keyof DeviceReading)[] = []) =>
  Object.fromEntries(
    readings.map((r) => [
      seriesOf('devices', r),
      Object.fromEntries(Object.entries(r).filter(([k]) => !omit.includes(k as keyof DeviceReading))),
    ]),
  );
