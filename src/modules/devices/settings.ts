import { IANAZone } from 'luxon';
import { z } from 'zod';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import { int, listOf } from '../../core/settings.js';
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
  { topic: 'stat/+/STATUS10', format: 'tasmota' },
  { topic: 'shellies/#', format: 'shelly-gen1' },
  { topic: '+/events/rpc', format: 'shelly-gen2' },
  { topic: '+/status/+', format: 'shelly-gen2' },
  { topic: 'zigbee2mqtt/#', format: 'zigbee2mqtt' },
  { topic: 'emon/#', format: 'emonhub' },
];

const subscriptionList = listOf(subscription);

/** The device families Wattline polls over HTTP (poll/*.ts each). */
export const POLL_KINDS = ['shelly-gen1', 'shelly-gen2', 'tasmota', 'http-json'] as const;
export type PollKind = (typeof POLL_KINDS)[number];

/** One polled device, as `devices.poll` lists it and `POST /api/v1/devices` takes it. */
export const polledDevice = z.strictObject({
  /** Its name in series keys: `devices/<id>/<quantity>`. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, {
    error: 'expected a device name of letters, digits, _ . : - (up to 100)',
  }),
  kind: z.enum(POLL_KINDS, { error: `expected one of ${POLL_KINDS.join(', ')}` }),
  url: z
    .url({ protocol: /^https?$/, error: "expected the device's base URL such as http://192.168.1.20" })
    // zod runs the refinement after a failed url check too: a URL that does not parse is that check's issue
    // (found by fuzzing: `new URL("")` threw, a 500)
    .refine((url) => !URL.canParse(url) || (!new URL(url).username && !new URL(url).password), {
      error: 'put the credentials in username and password, not in the URL',
    }),
  interval_s: z
    .number({ error: 'expected seconds between polls' })
    .int({ error: 'expected whole seconds' })
    .min(1)
    .max(86_400)
    .default(10),
  username: z.string().max(200).default(''),
  password: z.string().max(200).default(''),
  /** IANA zone of device times without an offset; empty: the core `timezone`. */
  timezone: z
    .string()
    .refine((zone) => zone === '' || IANAZone.isValidZone(zone), {
      error: 'expected an IANA time zone such as Europe/London',
    })
    .default(''),
});
export type PolledDeviceConfig = z.output<typeof polledDevice>;

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
      batchSize: int(5000, 1, 32_767, 'Most MQTT messages written as one batch.'),
      inFlight: int(
        65_535,
        1,
        65_535,
        "Most messages the broker may send before Wattline acknowledges them (MQTT 5 Receive Maximum; 65,535 is the protocol's limit): what Wattline holds while batches are committed, and how long a slow commit can be before the broker has to queue (Mosquitto drops past its max_queued_messages).",
      ),
      subscriptions: subscriptionList
        .default(DEFAULT_SUBSCRIPTIONS as never)
        .describe(
          'What to subscribe to: a list (YAML, or JSON in the environment) of `{topic, format, timezone, prefix}`; `format` is one of tasmota, shelly-gen1, shelly-gen2, zigbee2mqtt, emonhub, json. Default: every family at its usual topics.',
        ),
    })
    .prefault({}),
  devices: z
    .object({
      poll: listOf(polledDevice)
        .default([])
        .describe(
          'Devices polled over HTTP (role `jobs`): a list (YAML, or JSON in the environment) of `{id, kind, url, interval_s, username, password, timezone}`; `kind` is one of shelly-gen1, shelly-gen2, tasmota, http-json. More can be added with `POST /api/v1/devices`.',
        ),
      pollTimeoutMs: z.coerce
        .number()
        .int()
        .min(100)
        .default(5000)
        .describe('How long a device has to answer one poll request.'),
      pollConcurrency: z.coerce
        .number()
        .int()
        .min(1)
        .default(8)
        .describe('Devices polled at the same time at most; the others wait their turn.'),
      pollMaxBackoffS: z.coerce
        .number()
        .int()
        .min(1)
        .default(600)
        .describe(
          'A failing device is polled again after its interval doubled for each failure in a row, at most this many seconds.',
        ),
      pollRefreshMs: z.coerce
        .number()
        .int()
        .min(100)
        .default(10_000)
        .describe(
          'How often the poller rereads the device list (devices added or removed through an API process elsewhere).',
        ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
