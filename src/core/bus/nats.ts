import { connect, ErrorCode, Events, NatsError, type JetStreamManager, type NatsConnection } from 'nats';
import { Unavailable } from '../errors.js';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { Bus, Handler } from './bus.js';
import { defaultCodecs, type CodecRegistry } from './codec.js';
import { createBusMetrics } from './metrics.js';
import { createBroadcast } from './nats-broadcast.js';
import { createDeadLetters } from './nats-dlq.js';
import { startWorker, type Worker } from './nats-consumer.js';
import { createRoomTracker } from './nats-room.js';
import { createStreams } from './nats-streams.js';
import { codecHeaders, createTopics, HEADER_ALLOWANCE_BYTES, type Topic } from './nats-topics.js';

export interface NatsBusOptions {
  /** `nats://host:port` (BUS_URL). */
  url: string;
  /** Stream name prefix (`bus.stream`): topic `readings` lives in the stream `<prefix>_READINGS`. */
  stream: string;
  /** Longest an unconsumed message is kept (`bus.maxAgeS`; 0: no limit). */
  maxAgeS: number;
  replicas: number;
  /** Most bytes a topic's stream holds (`bus.maxBytes`); publishes beyond it reject with `BusFull`. */
  maxBytes: number;
  /** Most messages a topic's stream holds (`bus.maxMessages`); publishes beyond it reject with `BusFull`. */
  maxMessages: number;
  /** Deliveries of a message before it goes to the dead-letter stream `<prefix>_DLQ`. */
  maxDeliver: number;
  /** How long a handler may work on a message before JetStream delivers it again. */
  ackWaitMs: number;
  log: Logger;
  /** Where the bus's metrics are registered. */
  metrics?: Registry;
  /** Messages one consumer works on at once; the persistor groups them into one commit. */
  maxInFlight?: number;
  /** Delay before a failed message is delivered again; doubles per delivery, up to 30 s. */
  retryDelayMs?: number;
  codecs?: CodecRegistry;
}

const READY_TIMEOUT_MS = 2000;
/**
 * Longest a publish waits for the stream's acknowledgement. A healthy server answers in
 * milliseconds; beyond this the client is told 503 (retry) rather than held (nats.js waits 5 s).
 */
const PUBLISH_TIMEOUT_MS = 2000;
// what nats.js answers when the server or JetStream is not there, as opposed to a refusal
const OUTAGE_CODES = new Set<string>([
  ErrorCode.Timeout,
  ErrorCode.NoResponders,
  ErrorCode.Disconnect,
  ErrorCode.ConnectionClosed,
  ErrorCode.ConnectionRefused,
  ErrorCode.ConnectionTimeout,
  ErrorCode.JetStreamNotEnabled,
]);

/** `err` as a publisher should see it: `Unavailable` (503, retry) when NATS could not be reached. */
function busError(err: unknown): unknown {
  if (err instanceof NatsError && OUTAGE_CODES.has(err.code))
    return new Unavailable('bus', 'the bus is unavailable; retry shortly', { cause: err });
  return err;
}

/**
 * The JetStream bus. Each topic is a work-queue stream `<prefix>_<TOPIC>` (nats-streams.ts);
 * `publish` resolves on the stream's acknowledgement (the message is stored, replicated as
 * configured), and rejects with `BusFull` when the stream is at its limits (nats-room.ts).
 * `consume` pulls from one durable consumer per topic that every process shares and dead-letters
 * what keeps failing (nats-consumer.ts); broadcasts go over core NATS (nats-broadcast.ts).
 */
export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const log = options.log;
  const { nc, jsm } = await connectJetStream(options.url);
  const js = nc.jetstream();
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  const connection = { up: true };
  void watchConnection(nc, log, connection);
  /** Refuses at once while disconnected: nats.js would buffer the publish and time out later. */
  const mustBeConnected = () => {
    if (!connection.up || nc.isClosed()) throw new Unavailable('bus', 'the bus is unavailable; retry shortly');
  };

  const topics = createTopics(options.stream, options.codecs ?? defaultCodecs);
  const streams = createStreams(jsm, topics, options, log);
  const metrics = createBusMetrics(options.metrics, () => room.fill(topics.known()));
  const room = createRoomTracker(streams, metrics, log);
  const live = createBroadcast(nc, topics, maxPayload, log);
  const deadLetters = createDeadLetters(jsm, js, topics, streams);
  const consumerContext = {
    nc,
    js,
    streams,
    topics,
    log,
    settings: {
      maxDeliver: options.maxDeliver,
      ackWaitMs: options.ackWaitMs,
      maxInFlight: options.maxInFlight ?? 16,
      retryDelayMs: options.retryDelayMs ?? 1000,
    },
  };
  const workers = new Set<Worker>();
  let closed = false;
  let closing: Promise<void> | undefined;

  /** Publishes one message, split into parts (each handled on its own) if it exceeds max_payload. */
  async function publishEncoded(topic: Topic, message: unknown): Promise<void> {
    const data = topic.codec.encode(message);
    if (data.length + HEADER_ALLOWANCE_BYTES > maxPayload) {
      const parts = topic.codec.split?.(message);
      if (!parts)
        throw new Error(
          `a ${topic.name} message of ${data.length} bytes exceeds the NATS max_payload of ${maxPayload} bytes`,
        );
      await Promise.all(parts.map((part) => publishEncoded(topic, part)));
      return;
    }
    try {
      await js.publish(topic.subject, data, { headers: codecHeaders(topic.codec), timeout: PUBLISH_TIMEOUT_MS });
    } catch (err) {
      throw busError(room.publishFailed(topic, data.length, err));
    }
    room.published(topic);
  }

  return {
    kind: 'nats',

    async publish<T>(topicName: string, message: T) {
      if (closed) throw new Error('bus is closed');
      const topic = topics.of(topicName);
      mustBeConnected();
      await streams.ensureTopicStream(topic).catch((err: unknown) => {
        throw busError(err);
      });
      await publishEncoded(topic, message);
    },

    async checkRoom(topicName: string) {
      mustBeConnected();
      await room.check(topics.of(topicName));
    },

    deadLetters: (query) => deadLetters.list(query),
    replayDeadLetters: (query) => deadLetters.replay(query),

    consume<T>(topicName: string, handler: Handler<T>) {
      if (closed) throw new Error('bus is closed');
      const worker = startWorker(consumerContext, topics.of(topicName), handler as Handler<unknown>);
      workers.add(worker);
      // stops pulling at once; close() waits for the handlers still running
      return () => void worker.stop();
    },

    broadcast<T>(topicName: string, message: T) {
      if (!closed) live.broadcast(topicName, message);
    },

    subscribe<T>(topicName: string, listener: (message: T) => void) {
      return live.subscribe(topicName, listener as (message: unknown) => void);
    },

    async ready() {
      if (closed || !connection.up || nc.isClosed() || [...workers].some((w) => w.failing)) return false;
      return withTimeout(
        nc.flush().then(
          () => true,
          () => false,
        ),
        READY_TIMEOUT_MS,
        false,
      );
    },

    close: () =>
      (closing ??= (async () => {
        closed = true;
        await Promise.all([...workers].map((w) => w.stop()));
        // drain flushes the acks of the handlers that just finished before the socket closes
        if (!nc.isClosed()) await nc.drain();
      })()),
  };
}

async function connectJetStream(url: string): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: 'wattline', maxReconnectAttempts: -1 });
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${url}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return { nc, jsm: await nc.jetstreamManager() };
  } catch (err) {
    await nc.close();
    throw new Error(`NATS at ${url} has no JetStream (start nats-server with -js): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function watchConnection(nc: NatsConnection, log: Logger, connection: { up: boolean }) {
  for await (const s of nc.status()) {
    if (s.type === Events.Disconnect) {
      connection.up = false;
      log.warn({ server: s.data }, 'bus disconnected; reconnecting');
    } else if (s.type === Events.Reconnect) {
      connection.up = true;
      log.info({ server: s.data }, 'bus reconnected');
    } else if (s.type === Events.Error) log.warn({ err: s.data }, 'bus connection error');
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
