import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Connections } from '../../core/connections.js';
import type { Stop } from '../../core/module.js';
import type { Logger } from '../../core/log.js';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import {
  type Availability,
  type DeviceReading,
  MalformedPayload,
  type PayloadFormat,
  wildcardLevels,
} from './format.js';
import { FORMATS } from './formats/index.js';
import type { Settings, Subscription } from './settings.js';
import { type DeviceSink, type Origin, seriesOf } from './sink.js';

/** A session the broker keeps while Wattline is away, however long (MQTT 5: 0xFFFFFFFF never expires). */
const SESSION_NEVER_EXPIRES = 0xffff_ffff;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;
/** A malformed payload is logged again for the same topic and reason at most this often. */
const RELOG_AFTER_MS = 3_600_000;
/** Topic+reason pairs remembered for RELOG_AFTER_MS; past this many the memory starts over. */
const MAX_REMEMBERED_REASONS = 10_000;
/** Topics whose subscription is remembered; past this many the memory starts over. */
const MAX_REMEMBERED_TOPICS = 100_000;

/** What handleMessage answers mqtt.js for a QoS 1 message: one object, not a new stack trace per message. */
const ACK_LATER = new Error('acknowledged once its readings are committed');

/** A subscription the subscriber reads: its format is known. */
interface Reader {
  subscription: Subscription;
  format: PayloadFormat;
  origin: Origin;
  zone: string;
  /** The format's memory for this subscription's devices (MessageContext.state). */
  state: Map<string, unknown>;
}

/** A message received and not yet acknowledged. */
interface Received {
  topic: string;
  payload: Buffer;
  receivedMs: number;
  /** Sends its PUBACK, once its readings are committed (a no-op for QoS 0). */
  ack: () => void;
}

/** The broker's name in `/ready`'s connections. */
const CONNECTION = 'mqtt';

export interface MqttSubscriberOptions {
  settings: Settings['mqtt'];
  /** The core time zone: device times without an offset where the subscription names none. */
  zone: string;
  sink: DeviceSink;
  log: Logger;
  registry: Registry;
  now: () => number;
  /** Where the broker's state is reported for `/ready` (as `mqtt`). */
  connections: Connections;
}

function createMetrics(registry: Registry) {
  const registers = [registry];
  return {
    messages: new Counter({
      name: 'devices_mqtt_messages_total',
      help: 'MQTT messages acknowledged, by format and outcome: stored, malformed (logged and dropped) or unmatched (no subscription reads the topic)',
      labelNames: ['format', 'outcome'] as const,
      registers,
    }),
    subscribed: new Gauge({
      name: 'devices_mqtt_subscribed',
      help: '1 while connected to the MQTT broker with every subscription granted, else 0',
      registers,
    }),
    unacknowledged: new Gauge({
      name: 'devices_mqtt_unacknowledged',
      help: 'QoS 1 messages received and not yet acknowledged (their readings being written); at most mqtt.inFlight, as the broker sends no more',
      registers,
    }),
    writeFailures: new Counter({
      name: 'devices_mqtt_write_failures_total',
      help: 'Batches of MQTT readings the store or bus did not take (retried; their messages stay unacknowledged)',
      registers,
    }),
  };
}

/**
 * The MQTT subscriber (role `ingest`; off while `mqtt.url` is empty). It subscribes with QoS 1 in a
 * persistent session and acknowledges each message only once its readings are committed (or stored
 * in JetStream), so the broker delivers again whatever a killed process had not written. Messages
 * that arrive together are written together, and the broker sends at most `mqtt.inFlight`
 * unacknowledged ones (MQTT 5 Receive Maximum), which bounds memory when the store is slow.
 */
export function startMqttSubscriber(options: MqttSubscriberOptions): Stop {
  const { settings, sink, log } = options;
  if (!settings.url) return () => undefined;
  const readers = readersOf(options);
  if (!readers.length) {
    log.warn('mqtt.url is set but no subscription has a format this version reads: the MQTT subscriber is off');
    return () => undefined;
  }
  const metrics = createMetrics(options.registry);
  const reportMalformed = onceEvery(RELOG_AFTER_MS);
  const batcher = createBatcher(settings.batchSize, (batch) => writeBatch(batch));
  const stopping = new AbortController();

  const client = mqtt.connect(settings.url, {
    clientId: settings.clientId,
    username: settings.username || undefined,
    password: settings.password || undefined,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: SESSION_NEVER_EXPIRES, receiveMaximum: settings.inFlight },
    reconnectPeriod: 1_000,
  });
  // mqtt.js sends a PUBACK when handleMessage calls back, and takes the next packet only after
  // that (handlers/publish.js): waiting there would write one message per commit. Calling back
  // with an error skips that PUBACK and reads on; acknowledge() sends it once the batch is written.
  let held = 0;
  client.handleMessage = (packet, callback) => {
    const ack = packet.qos === 0 ? () => undefined : counted(acknowledge(client, packet));
    batcher.add({ topic: packet.topic, payload: packet.payload as Buffer, receivedMs: options.now(), ack });
    callback(packet.qos === 0 ? undefined : ACK_LATER);
  };

  /** An acknowledgement that also counts the message as no longer held (once, whatever happens to the PUBACK). */
  function counted(ack: () => void): () => void {
    metrics.unacknowledged.set(++held);
    let done = false;
    return () => {
      if (!done) metrics.unacknowledged.set(--held);
      done = true;
      ack();
    };
  }

  const where = brokerName(settings.url);
  let subscribed = false;
  options.connections.set(CONNECTION, false, 'connecting');
  client.on('connect', (connack) => {
    lastError = undefined;
    options.connections.set(CONNECTION, true);
    log.info({ broker: where, clientId: settings.clientId, sessionPresent: connack.sessionPresent }, 'MQTT connected');
    // once: after that, the session keeps the subscriptions, or mqtt.js subscribes again if the broker lost it
    if (subscribed) return metrics.subscribed.set(1);
    subscribed = true;
    client.subscribe(
      readers.map((r) => r.subscription.topic),
      { qos: 1 },
      (err, granted) => {
        if (err) return log.error({ err, broker: where }, 'MQTT subscribe failed');
        const refused = (granted ?? []).filter((g) => g.qos > 1);
        for (const g of refused)
          log.error({ topic: g.topic, reasonCode: g.qos }, 'the broker refused the MQTT subscription');
        metrics.subscribed.set(refused.length ? 0 : 1);
      },
    );
  });
  client.on('close', () => {
    metrics.subscribed.set(0);
    options.connections.set(CONNECTION, false, lastError ?? 'connection closed');
  });

  const reportError = onceEvery(60_000);
  let lastError: string | undefined;
  client.on('error', (err) => {
    lastError = err.message;
    if (reportError(err.message)) log.warn({ broker: where, err: err.message }, 'MQTT connection failed; retrying');
  });

  // a device publishes on the same few topics again and again: which subscription reads each is
  // worked out once (bounded: past MAX_REMEMBERED_TOPICS the memory starts over)
  const readerOfTopic = new Map<string, Reader | null>();
  const readerOf = (topic: string) => {
    let reader = readerOfTopic.get(topic);
    if (reader === undefined) {
      reader = readers.find((r) => wildcardLevels(r.subscription.topic, topic) !== undefined) ?? null;
      if (readerOfTopic.size >= MAX_REMEMBERED_TOPICS) readerOfTopic.clear();
      readerOfTopic.set(topic, reader);
    }
    return reader;
  };

  /** Parses a batch, writes each subscription's readings, then acknowledges every message of it. */
  async function writeBatch(batch: Received[]) {
    const groups = new Map<Reader, { readings: DeviceReading[]; availability: Availability[]; messages: number }>();
    for (const message of batch) {
      const reader = readerOf(message.topic);
      if (!reader) {
        metrics.messages.inc({ format: '', outcome: 'unmatched' });
        if (reportMalformed(`${message.topic}\0unmatched`))
          log.warn({ topic: message.topic }, 'no MQTT subscription reads this topic; message dropped');
        continue;
      }
      const parsed = parse(reader, message);
      if (typeof parsed === 'string') {
        metrics.messages.inc({ format: reader.format.name, outcome: 'malformed' });
        // the same reason whatever the payload's excerpt ("… (got "abc")") says
        if (reportMalformed(`${message.topic}\0${parsed.replace(/ \(got .*\)$/s, '')}`))
          log.warn({ topic: message.topic, format: reader.format.name, reason: parsed }, 'MQTT payload dropped');
        continue;
      }
      let group = groups.get(reader);
      if (!group) groups.set(reader, (group = { readings: [], availability: [], messages: 0 }));
      group.readings.push(...parsed.readings);
      if (parsed.availability) group.availability.push(parsed.availability);
      group.messages++;
    }
    // every subscription's readings at once: the persistor commits them together
    await Promise.all(
      [...groups].map(async ([reader, group]) => {
        await writeUntilTaken(reader, group.readings, group.availability);
        metrics.messages.inc({ format: reader.format.name, outcome: 'stored' }, group.messages);
      }),
    );
    for (const message of batch) message.ack();
  }

  /**
   * A failed write (the store or bus down, the bus full) is retried here with a growing pause,
   * its messages unacknowledged: the broker sends nothing more past the Receive Maximum meanwhile,
   * and if the process dies it delivers them again. Reconnecting instead would only have the broker
   * resend what is already held. On shutdown the batch is left unacknowledged.
   */
  async function writeUntilTaken(reader: Reader, readings: DeviceReading[], availability: Availability[]) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await sink.write(readings, reader.origin, availability);
      } catch (err) {
        metrics.writeFailures.inc();
        const pauseMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
        log.warn({ err, readings: readings.length, retryInMs: pauseMs }, 'MQTT readings not written; retrying');
        await sleep(pauseMs, undefined, { signal: stopping.signal });
      }
    }
  }

  return async () => {
    stopping.abort();
    await batcher.stop();
    await client.endAsync();
    options.connections.delete(CONNECTION);
  };
}

/** The subscriptions whose format this version reads (the others are skipped with a warning). */
function readersOf(options: MqttSubscriberOptions): Reader[] {
  const readers: Reader[] = [];
  for (const subscription of options.settings.subscriptions) {
    const format = FORMATS[subscription.format];
    if (!format) {
      options.log.warn(
        { topic: subscription.topic, format: subscription.format },
        'MQTT subscription skipped: this version has no reader for its format',
      );
      continue;
    }
    readers.push({
      subscription,
      format,
      // json readings keep their own series keys (formats/json.ts)
      origin: { family: format.name, source: 'mqtt', prefix: format.name === 'json' ? '' : subscription.prefix },
      zone: subscription.timezone || options.zone,
      state: new Map(),
    });
  }
  return readers;
}

/** A message's readings, or why it cannot be read. */
function parse(reader: Reader, message: Received): Parsed | string {
  try {
    const parsed = reader.format.parse(message.payload, {
      topic: message.topic,
      filter: reader.subscription.topic,
      zone: reader.zone,
      receivedMs: message.receivedMs,
      state: reader.state,
    });
    // what the store would refuse would hold back every message behind it: refused here instead
    for (const r of parsed.readings) {
      const series = seriesOf(reader.origin.prefix, r);
      if (!SERIES_KEY_PATTERN.test(series)) return `series key ${series.slice(0, 60)}… is not a valid key (too long?)`;
      if (!Number.isFinite(r.value) || !Number.isFinite(r.ts)) return `${series} has no finite value and time`;
    }
    return parsed;
  } catch (err) {
    if (err instanceof MalformedPayload) return err.message;
    return `the ${reader.format.name} reader failed: ${(err as Error).message}`;
  }
}
type Parsed = ReturnType<PayloadFormat['parse']>;

/**
 * Sends a message's PUBACK, on the connection it came on: after a reconnect the broker delivers
 * it again by itself, and an acknowledgement queued for the new connection could meet a packet id
 * already reused. `_sendPacket` is mqtt.js's own (the one its automatic acknowledgement uses).
 */
function acknowledge(client: MqttClient, packet: IPublishPacket): () => void {
  const stream = client.stream;
  const messageId = packet.messageId;
  return () => {
    if (!client.connected || client.stream !== stream) return;
    (client as unknown as { _sendPacket(p: object): void })._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 });
  };
}

/**
 * Group commit for messages: the first message starts a write on the next turn of the event loop
 * (so every message of the same network read joins it), up to `batchSize` each. Two writes run at
 * once, so messages are parsed and handed to the store while the batch before is being committed;
 * what arrives while both run waits for the next.
 */
function createBatcher(batchSize: number, write: (batch: Received[]) => Promise<void>) {
  const WRITES_AT_ONCE = 2;
  const waiting: Received[] = [];
  let writing = 0;
  let scheduled = false;
  let stopped = false;
  let idle: (() => void) | undefined;

  function pump() {
    scheduled = false;
    while (writing < WRITES_AT_ONCE && waiting.length && !stopped) {
      writing++;
      write(waiting.splice(0, batchSize))
        .catch(() => undefined) // only an abort on shutdown ends a write unfinished
        .finally(() => {
          writing--;
          if (writing === 0) idle?.();
          pump();
        });
    }
  }

  return {
    add(message: Received) {
      if (stopped) return; // unacknowledged: the broker delivers it again
      waiting.push(message);
      if (!scheduled) {
        scheduled = true;
        setImmediate(pump);
      }
    },
    /** Takes no more messages and waits for the batches being written. */
    async stop() {
      stopped = true;
      if (writing) await new Promise<void>((resolve) => (idle = resolve));
    },
  };
}

/** True the first time a key is seen, then again only once `everyMs` passed. */
function onceEvery(everyMs: number) {
  const last = new Map<string, number>();
  return (key: string) => {
    const now = Date.now();
    const seen = last.get(key);
    if (seen !== undefined && now - seen < everyMs) return false;
    if (last.size >= MAX_REMEMBERED_REASONS) last.clear();
    last.set(key, now);
    return true;
  };
}

/** The broker's host and port, for logs: a URL may carry a user name and password. */
function brokerName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the MQTT broker';
  }
}
