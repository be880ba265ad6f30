import type { ConsumerMessages, JetStreamClient, JsMsg, NatsConnection } from 'nats';
import type { Logger } from '../log.js';
import type { Handler } from './bus.js';
import { DURABLE, type Streams } from './nats-streams.js';
import { CODEC_HEADER, codecHeaders, type Topic, type Topics } from './nats-topics.js';

/** Longest wait before a failed message is delivered again, or a failed consumer starts again. */
const MAX_RETRY_DELAY_MS = 30_000;

export interface ConsumerSettings {
  /** Deliveries of a message before it goes to the dead-letter stream `<prefix>_DLQ`. */
  maxDeliver: number;
  /** How long a handler may work on a message before JetStream delivers it again. */
  ackWaitMs: number;
  /** Messages one consumer works on at once. */
  maxInFlight: number;
  /** Delay before a failed message is delivered again; doubles per delivery, up to 30 s. */
  retryDelayMs: number;
}

export interface ConsumerContext {
  nc: NatsConnection;
  js: JetStreamClient;
  streams: Streams;
  topics: Topics;
  settings: ConsumerSettings;
  log: Logger;
}

export interface Worker {
  /** True while the last attempt to start pulling failed (ready() reports it). */
  readonly failing: boolean;
  /** Stops pulling; resolves when in-flight handlers have finished and their messages are acked. */
  stop(): Promise<void>;
}

/**
 * One `consume` call: pulls from the topic's shared durable consumer, runs up to `maxInFlight`
 * handlers at once, acks a message once its handler resolved and naks it (delayed, growing) when
 * the handler failed. A message that failed `maxDeliver` deliveries, was never answered in time,
 * or cannot be decoded is dead-lettered. When pulling fails the worker starts again, backing off.
 */
export function startWorker(ctx: ConsumerContext, topic: Topic, handler: Handler<unknown>): Worker {
  const { nc, js, settings } = ctx;
  const inFlight = new Set<Promise<void>>();
  const abort = new AbortController();
  let messages: ConsumerMessages | undefined;
  let stopping = false;
  let failing = false;
  const log = ctx.log.child({ topic: topic.name, stream: topic.stream });
  const retryDelay = (deliveries: number) =>
    Math.min(settings.retryDelayMs * 2 ** (deliveries - 1), MAX_RETRY_DELAY_MS);

  async function deadLetter(m: JsMsg, reason: string, err?: unknown) {
    const deliveries = m.info.deliveryCount;
    try {
      await ctx.streams.ensureDlqStream();
      const h = codecHeaders(topic.codec);
      h.set('Wattline-Topic', topic.name);
      h.set('Wattline-Reason', headerValue(reason));
      h.set('Wattline-Deliveries', String(deliveries));
      h.set('Wattline-Stream', topic.stream);
      h.set('Wattline-Stream-Seq', String(m.seq));
      await js.publish(topic.deadLetterSubject, m.data, { headers: h });
    } catch (dlqErr) {
      log.warn({ err: dlqErr, seq: m.seq }, 'dead-letter publish failed; message will be delivered again');
      m.nak(retryDelay(deliveries));
      return;
    }
    // a person must look at it: the message's data is not stored anywhere else now
    log.error(
      { err, reason, deliveries, seq: m.seq, deadLetterStream: ctx.topics.dlqStream },
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
    if (deliveries > settings.maxDeliver) {
      // earlier deliveries were never answered: the handler outlived ackWaitMs, or its process stopped
      return deadLetter(m, `not acknowledged in ${deliveries - 1} deliveries (ack wait ${settings.ackWaitMs} ms)`);
    }
    try {
      await handler(message);
    } catch (err) {
      if (deliveries >= settings.maxDeliver)
        return deadLetter(
          m,
          `handler failed ${deliveries} times, last: ${(err as Error)?.message ?? String(err)}`,
          err,
        );
      log.warn({ err, deliveries, seq: m.seq }, 'bus message failed; it will be delivered again');
      m.nak(retryDelay(deliveries));
      return;
    }
    m.ack();
  }

  const loop = (async () => {
    let attempt = 0;
    while (!stopping && !nc.isClosed()) {
      try {
        await ctx.streams.ensureConsumer(topic);
        const consumer = await js.consumers.get(topic.stream, DURABLE);
        messages = await consumer.consume({ max_messages: settings.maxInFlight });
        if (stopping) messages.stop();
        failing = false;
        attempt = 0;
        for await (const m of messages) {
          while (inFlight.size >= settings.maxInFlight) await Promise.race(inFlight);
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
        log.warn({ err, attempt }, 'bus consumer failed; retrying');
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
