import {
  AckPolicy,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  Events,
  headers,
  nanos,
  NatsError,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type MsgHdrs,
  type NatsConnection,
  type StreamConfig,
} from 'nats';
import type { Logger } from '../log.js';
import type { Bus, Handler } from './bus.js';
import { defaultCodecs, type Codec, type CodecRegistry } from './codec.js';

export interface NatsBusOptions {
  /** `nats://host:port` (BUS_URL). */
  url: string;
  /** Stream name prefix (`bus.stream`): topic `readings` lives in the stream `<prefix>_READINGS`. */
  stream: string;
  /** Longest an unconsumed message is kept (`bus.maxAgeS`; 0: no limit). */
  maxAgeS: number;
  replicas: number;
  /** Deliveries of a message before it goes to the dead-letter stream `<prefix>_DLQ`. */
  maxDeliver: number;
  /** How long a handler may work on a message before JetStream delivers it again. */
  ackWaitMs: number;
  log: Logger;
  /** Messages one consumer works on at once; the persistor groups them into one commit. */
  maxInFlight?: number;
  /** Delay before a failed message is delivered again; doubles per delivery, up to 30 s. */
  retryDelayMs?: number;
  codecs?: CodecRegistry;
}

/** The durable consumer every process shares per topic stream, so they split the work. */
const DURABLE = 'workers';
const CODEC_HEADER = 'Wattline-Codec';
const MAX_RETRY_DELAY_MS = 30_000;
const READY_TIMEOUT_MS = 2000;
/** Room left in `max_payload` for the headers JetStream and we add. */
const HEADER_ALLOWANCE_BYTES = 1024;
// JetStream API error codes (nats-server errors.json)
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

interface Topic {
  name: string;
  stream: string;
  subject: string;
  /** Core NATS subject of broadcasts (outside every stream's subjects: never stored). */
  liveSubject: string;
  codec: Codec<unknown>;
}

interface Worker {
  /** True while the last attempt to start pulling failed (ready() reports it). */
  failing: boolean;
  /** Stops pulling; resolves when in-flight handlers have finished and their messages are acked. */
  stop(): Promise<void>;
}

/**
 * The JetStream bus. Each topic is a work-queue stream `<prefix>_<TOPIC>`; `publish` resolves on
 * the stream's acknowledgement (the message is stored, replicated as configured). `consume`
 * pulls from one durable consumer per topic that every process shares, runs up to `maxInFlight`
 * handlers at once, acks a message after its handler resolved, and naks it (delayed) when the
 * handler fails. A message that failed `maxDeliver` deliveries, or cannot be decoded, goes to the
 * stream `<prefix>_DLQ` with the reason in its headers, and the reason is logged.
 */
export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const log = options.log;
  const codecs = options.codecs ?? defaultCodecs;
  const maxInFlight = options.maxInFlight ?? 16;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const prefix = options.stream;
  const dlqStream = `${prefix}_DLQ`;
  const maxAge = nanos(options.maxAgeS * 1000);

  let nc: NatsConnection;
  try {
    nc = await connect({ servers: options.url, name: 'wattline', maxReconnectAttempts: -1 });
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${options.url}: ${(err as Error).message}`, { cause: err });
  }
  let jsm: JetStreamManager;
  try {
    jsm = await nc.jetstreamManager();
  } catch (err) {
    await nc.close();
    throw new Error(`NATS at ${options.url} has no JetStream (start nats-server with -js): ${(err as Error).message}`, {
      cause: err,
    });
  }
  const js = nc.jetstream();
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  void watchConnection(nc, log);

  const topics = new Map<string, Topic>();
  const streamsReady = new Map<string, Promise<void>>();
  const workers = new Set<Worker>();
  let closed = false;
  let closing: Promise<void> | undefined;

  function topicOf(name: string): Topic {
    let topic = topics.get(name);
    if (topic) return topic;
    const suffix = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    const stream = `${prefix}_${suffix}`;
    if (stream === dlqStream)
      throw new Error(`topic "${name}" would share the dead-letter stream ${dlqStream}; choose another name`);
    const clash = [...topics.values()].find((t) => t.stream === stream);
    if (clash)
      throw new Error(`topics "${name}" and "${clash.name}" map to the same stream ${stream}; choose distinct names`);
    topic = {
      name,
      stream,
      subject: `${prefix}.${suffix}`,
      liveSubject: `${prefix}.LIVE.${suffix}`,
      codec: codecs(name),
    };
    topics.set(name, topic);
    return topic;
  }

  /** Creates the stream, or brings its limits in line with the settings; once per bus. */
  function ensureStream(config: Pick<StreamConfig, 'name' | 'subjects' | 'retention'>): Promise<void> {
    let ready = streamsReady.get(config.name);
    if (!ready) {
      ready = (async () => {
        const wanted: Partial<StreamConfig> & { name: string } = {
          ...config,
          storage: StorageType.File,
          discard: DiscardPolicy.Old,
          max_age: maxAge,
          num_replicas: options.replicas,
          // the server refuses a duplicate window longer than the max age
          ...(maxAge > 0 && maxAge < nanos(120_000) ? { duplicate_window: maxAge } : {}),
        };
        const existing = await jsm.streams.info(config.name).catch((err: unknown) => {
          if (isApiError(err, STREAM_NOT_FOUND)) return undefined;
          throw err;
        });
        if (!existing) {
          await jsm.streams.add(wanted);
          log.info({ stream: config.name, subjects: config.subjects }, 'bus stream created');
          return;
        }
        const have = existing.config;
        if (have.retention !== config.retention) {
          throw new Error(
            `stream ${config.name} exists with ${have.retention} retention, expected ${config.retention}; delete it or set another WATTLINE_BUS_STREAM`,
          );
        }
        const differs =
          have.max_age !== wanted.max_age ||
          have.num_replicas !== wanted.num_replicas ||
          config.subjects.some((s) => !have.subjects.includes(s));
        if (differs) {
          await jsm.streams.update(config.name, {
            ...have,
            ...wanted,
            subjects: [...new Set([...have.subjects, ...config.subjects])],
          });
          log.info({ stream: config.name }, 'bus stream updated to the settings');
        }
      })();
      streamsReady.set(config.name, ready);
      ready.catch(() => streamsReady.delete(config.name)); // try again next time
    }
    return ready;
  }

  const ensureTopicStream = (topic: Topic) =>
    ensureStream({ name: topic.stream, subjects: [topic.subject], retention: RetentionPolicy.Workqueue });
  const ensureDlqStream = () =>
    ensureStream({ name: dlqStream, subjects: [`${prefix}.DLQ.>`], retention: RetentionPolicy.Limits });

  async function ensureConsumer(topic: Topic) {
    await ensureTopicStream(topic);
    const wanted = {
      durable_name: DURABLE,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(options.ackWaitMs),
      // unlimited: the bus counts deliveries itself and dead-letters, so no message is stranded
      // in the stream after its last delivery timed out
      max_deliver: -1,
    };
    const existing = await jsm.consumers.info(topic.stream, DURABLE).catch((err: unknown) => {
      if (isApiError(err, CONSUMER_NOT_FOUND)) return undefined;
      throw err;
    });
    if (!existing) await jsm.consumers.add(topic.stream, wanted);
    else if (existing.config.ack_wait !== wanted.ack_wait || existing.config.max_deliver !== wanted.max_deliver) {
      await jsm.consumers.update(topic.stream, DURABLE, { ack_wait: wanted.ack_wait, max_deliver: wanted.max_deliver });
    }
  }

  function codecHeaders(codec: Codec<unknown>): MsgHdrs {
    const h = headers();
    h.set(CODEC_HEADER, codec.name);
    return h;
  }

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
    await js.publish(topic.subject, data, { headers: codecHeaders(topic.codec) });
  }

  function startWorker(topic: Topic, handler: Handler<unknown>): Worker {
    const inFlight = new Set<Promise<void>>();
    const abort = new AbortController();
    let messages: ConsumerMessages | undefined;
    let stopping = false;
    let failing = false;
    const workerLog = log.child({ topic: topic.name, stream: topic.stream });

    async function deadLetter(m: JsMsg, reason: string, err?: unknown) {
      const deliveries = m.info.deliveryCount;
      try {
        await ensureDlqStream();
        const h = codecHeaders(topic.codec);
        h.set('Wattline-Topic', topic.name);
        h.set('Wattline-Reason', headerValue(reason));
        h.set('Wattline-Deliveries', String(deliveries));
        h.set('Wattline-Stream', topic.stream);
        h.set('Wattline-Stream-Seq', String(m.seq));
        await js.publish(`${prefix}.DLQ.${topic.subject.slice(prefix.length + 1)}`, m.data, { headers: h });
      } catch (dlqErr) {
        workerLog.warn({ err: dlqErr, seq: m.seq }, 'dead-letter publish failed; message will be delivered again');
        m.nak(retryDelay(deliveries));
        return;
      }
      // a person must look at it: the message's data is not stored anywhere else now
      workerLog.error(
        { err, reason, deliveries, seq: m.seq, deadLetterStream: dlqStream },
        'bus message dead-lettered',
      );
      m.term();
    }

    async function handle(m: JsMsg) {
      const deliveries = m.info.deliveryCount;
      let message: unknown;
      try {
        const codecName = m.headers?.get(CODEC_HEADER);
        if (codecName && codecName !== topic.codec.name)
          throw new Error(`message is encoded as ${codecName}, topic ${topic.name} expects ${topic.codec.name}`);
        message = topic.codec.decode(m.data);
      } catch (err) {
        return deadLetter(m, `cannot decode: ${(err as Error).message}`, err);
      }
      if (deliveries > options.maxDeliver) {
        // earlier deliveries were never answered: the handler outlived ackWaitMs, or its process stopped
        return deadLetter(m, `not acknowledged in ${deliveries - 1} deliveries (ack wait ${options.ackWaitMs} ms)`);
      }
      try {
        await handler(message);
      } catch (err) {
        if (deliveries >= options.maxDeliver)
          return deadLetter(
            m,
            `handler failed ${deliveries} times, last: ${(err as Error)?.message ?? String(err)}`,
            err,
          );
        workerLog.warn({ err, deliveries, seq: m.seq }, 'bus message failed; it will be delivered again');
        m.nak(retryDelay(deliveries));
        return;
      }
      m.ack();
    }

    const loop = (async () => {
      let attempt = 0;
      while (!stopping && !nc.isClosed()) {
        try {
          await ensureConsumer(topic);
          const consumer = await js.consumers.get(topic.stream, DURABLE);
          messages = await consumer.consume({ max_messages: maxInFlight });
          if (stopping) messages.stop();
          failing = false;
          attempt = 0;
          for await (const m of messages) {
            while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
            if (stopping) {
              m.nak(); // pulled but not started: hand it straight to another consumer
              continue;
            }
            const running: Promise<void> = handle(m).finally(() => inFlight.delete(running));
            inFlight.add(running);
          }
          if (!stopping) throw new Error('the consumer stopped pulling');
        } catch (err) {
          if (stopping || nc.isClosed()) break;
          failing = true;
          workerLog.warn({ err, attempt }, 'bus consumer failed; retrying');
          await delay(Math.min(1000 * 2 ** attempt++, MAX_RETRY_DELAY_MS), abort.signal);
        }
      }
      await Promise.all(inFlight);
    })();

    return {
      get failing() {
        return failing;
      },
      stop() {
        stopping = true;
        messages?.stop();
        abort.abort();
        return loop;
      },
    };
  }

  function retryDelay(deliveries: number) {
    return Math.min(retryDelayMs * 2 ** (deliveries - 1), MAX_RETRY_DELAY_MS);
  }

  return {
    kind: 'nats',

    async publish<T>(topicName: string, message: T) {
      if (closed) throw new Error('bus is closed');
      const topic = topicOf(topicName);
      await ensureTopicStream(topic);
      await publishEncoded(topic, message);
    },

    consume<T>(topicName: string, handler: Handler<T>) {
      if (closed) throw new Error('bus is closed');
      const worker = startWorker(topicOf(topicName), handler as Handler<unknown>);
      workers.add(worker);
      // stops pulling at once; close() waits for the handlers still running
      return () => void worker.stop();
    },

    broadcast<T>(topicName: string, message: T) {
      if (closed || nc.isClosed()) return;
      const topic = topicOf(topicName);
      const send = (part: unknown) => {
        const data = topic.codec.encode(part);
        if (data.length + HEADER_ALLOWANCE_BYTES <= maxPayload) return nc.publish(topic.liveSubject, data);
        const halves = topic.codec.split?.(part);
        if (halves) halves.forEach(send);
        else log.warn({ topic: topicName, bytes: data.length }, 'broadcast too large for one message; dropped');
      };
      send(message);
    },

    subscribe<T>(topicName: string, listener: (message: T) => void) {
      const topic = topicOf(topicName);
      const sub = nc.subscribe(topic.liveSubject, {
        callback: (err, m) => {
          if (err) return;
          try {
            listener(topic.codec.decode(m.data) as T);
          } catch (e) {
            log.warn({ err: e, topic: topicName }, 'broadcast not handled');
          }
        },
      });
      return () => sub.unsubscribe();
    },

    async ready() {
      if (closed || nc.isClosed() || [...workers].some((w) => w.failing)) return false;
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

async function watchConnection(nc: NatsConnection, log: Logger) {
  for await (const s of nc.status()) {
    if (s.type === Events.Disconnect) log.warn({ server: s.data }, 'bus disconnected; reconnecting');
    else if (s.type === Events.Reconnect) log.info({ server: s.data }, 'bus reconnected');
    else if (s.type === Events.Error) log.warn({ err: s.data }, 'bus connection error');
  }
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof NatsError && err.api_error?.err_code === code;
}

/** Header values cannot hold line breaks; a reason is one line, of a readable length. */
function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1000);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
