import type { FormatName, PayloadFormat } from '../format.js';
import { emonhub } from './emonhub.js';
import { jsonFormat } from './json.js';
import { shellyGen1 } from './shelly-gen1.js';
import { shellyGen2 } from './shelly-gen2.js';
import { tasmota } from './tasmota.js';
import { zigbee2mqtt } from './zigbee2mqtt.js';

/** The payload formats the MQTT subscriber reads, by name: one line per format. */
export const FORMATS: Partial<Record<FormatName, PayloadFormat>> = {
  tasmota,
  'shelly-gen1': shellyGen1,
  'shelly-gen2': shellyGen2,
  zigbee2mqtt,
  emonhub,
  json: jsonFormat,
};
