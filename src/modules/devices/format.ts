import type { SeriesKind } from '../../core/readings.js';
import type { SensorType } from '../buildings/index.js';

/** The payload families the MQTT subscriber reads (formats/<name>.ts each). */
export const FORMAT_NAMES = ['tasmota', 'shelly-gen1', 'shelly-gen2', 'zigbee2mqtt', 'emonhub', 'json'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** One value a device reported: becomes a reading of `<prefix>/<device>/<quantity>` and a sensor. */
export interface DeviceReading {
  /** The device's id as its topic names it (may contain `/`, e.g. a Zigbee2MQTT friendly name). */
  device: string;
  /** What was measured, as a series key segment: `power`, `energy`, `voltage`, `power_l1`, `emeter0/total`… */
  quantity: string;
  /** UTC epoch ms. */
  ts: number;
  value: number;
  /** The catalog unit (`W`, `Wh`, `kWh`, `V`, `A`, `VA`, `var`, `°C`, `%`…), null when there is none. */
  unit: string | null;
  kind: SeriesKind;
  /** The sensor type the device's quantity is registered as. */
  sensorType: SensorType;
}

/** A device said it went online or offline (Tasmota's LWT, Shelly's `online`). */
export interface Availability {
  device: string;
  online: boolean;
  /** UTC epoch ms. */
  ts: number;
}

/** What one message said. */
export interface Parsed {
  readings: DeviceReading[];
  availability?: Availability;
}

/** What a format is given with each message. */
export interface MessageContext {
  topic: string;
  /** The subscription's topic filter the message matched (its wildcards name the device). */
  filter: string;
  /** IANA zone of device times that carry no offset. */
  zone: string;
  /** When the message arrived (UTC epoch ms): the time of payloads that carry none. */
  receivedMs: number;
  /**
   * The format's memory per device, kept for the subscriber's life (Shelly Gen2 merges
   * `NotifyStatus` deltas onto the last `NotifyFullStatus`; Zigbee2MQTT drops repeated counters).
   */
  state: Map<string, unknown>;
}

/** Reads one family's payloads. */
export interface PayloadFormat {
  name: FormatName;
  /**
   * Readings (and availability) in one message; an empty list for a message of the family that
   * carries no measurement (a bridge or info topic). A malformed payload throws a
   * `MalformedPayload` saying why.
   */
  parse(payload: Buffer, ctx: MessageContext): Parsed;
}

/** A payload that cannot be read: logged once with its topic and reason, counted, acknowledged. */
export class MalformedPayload extends Error {}

/**
 * The topic levels the filter's wildcards matched, joined by `/`: `tele/+/SENSOR` and
 * `tele/plug1/SENSOR` give `plug1`; `zigbee2mqtt/#` and `zigbee2mqtt/kitchen/plug` give
 * `kitchen/plug`. Undefined when the topic does not match the filter.
 */
export function wildcardLevels(filter: string, topic: string): string | undefined {
  const f = filter.split('/');
  const t = topic.split('/');
  const matched: string[] = [];
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return [...matched, ...t.slice(i)].join('/');
    if (i >= t.length) return undefined;
    if (f[i] === '+') matched.push(t[i]);
    else if (f[i] !== t[i]) return undefined;
  }
  return t.length === f.length ? matched.join('/') : undefined;
}
