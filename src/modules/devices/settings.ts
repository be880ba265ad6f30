import { IANAZone } from 'luxon';
import { z } from 'zod';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import { FORMAT_NAMES } from './format.js';

/** One MQTT subscription: which topics, how their payloads read, the devices' zone, the series prefix. */
const subscription = z.object({
  topic: z.string().min(1, { error: 'expected an MQTT topic filter such as tele/+/SENSOR' }),
  format: z.enum(FORMAT_NAMES, { error: `expected one of ${FORMAT_NAMES.join(', ')}` }),
  /** IANA zone of device times without an offset (Tasmota's `Time`); empty: the core `timezone`. */
  timezone: z
    .string()
    .refine((zone) => zone === '' || IANAZone.isValidZone(zone), {
      error: 'expected an IANA time zone such as Europe/London',
    })
    .default(''),
  /** Series are `<prefix>/<device>/<quantity>`. */
  prefix: z
    .string()
    .regex(SERIES_KEY_PATTERN, { error: 'expected a series key prefix such as devices' })
    .default('devices'),
});

export type Subscription = z.output<typeof subscription>;

/** Every family's usual topics: a broker's devices are taken as they are, with no list to write. */
export const DEFAULT_SUBSCRIPTIONS: z.input<typeof subscription>[] = [
  { topic: 'tele/+/SENSOR', format: 'tasmota' },
  { topic: 'tele/+/LWT', format: 'tasmota' },
  { topic: 'shellies/#', format: 'shelly-gen1' },
  { topic: '+/events/rpc', format: 'shelly-gen2' },
  { topic: 'zigbee2mqtt/#', format: 'zigbee2mqtt' },
  { topic: 'emon/#', format: 'emonhub' },
];

/** A list from YAML, or JSON text from the environment. */
const subscriptionList = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value; // zod names it: not a list
  }
}, z.array(subscription));

/** The devices module's settings: the MQTT subscriber (off unless `mqtt.url` is set). */
export const settings = z.object({
  mqtt: z
    .object({
      url: z
        .string()
        .refine((s) => s === '' || /^(mqtts?|wss?|tcp|ssl):\/\//.test(s), {
          error: 'expected mqtt://host:port or mqtts://host:port',
        })
        .default('')
        .describe(
          'MQTT broker to subscribe to (role `ingest`), e.g. `mqtt://127.0.0.1:1883`; empty: no MQTT subscriber.',
        ),
      username: z.string().default('').describe('MQTT user name (empty: none).'),
      password: z.string().default('').describe('MQTT password (never logged).'),
      clientId: z
        .string()
        .default('wattline')
        .describe(
          'MQTT client id: the broker keeps this persistent session, so messages published while Wattline is down are delivered when it is back. Each ingest process needs its own.',
        ),
      subscriptions: subscriptionList
        .default(DEFAULT_SUBSCRIPTIONS as never)
        .describe(
          'What to subscribe to: a list (YAML, or JSON in the environment) of `{topic, format, timezone, prefix}`; `format` is one of tasmota, shelly-gen1, shelly-gen2, zigbee2mqtt, emonhub, json. Default: every family at its usual topics.',
        ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
