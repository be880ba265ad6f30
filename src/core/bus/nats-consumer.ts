import type { ConsumerMessages, JetStreamClient, JsMsg, NatsConnection } from 'nats';
import { Unavailable } from '../errors.js';
import type { Logger } from '../log.js';
import type { Handler } from './bus.js';
import { DURABLE, type Streams } from './nats-streams.js';
import { CODEC_HEADER, codecHeaders, type Topic, type Topics } from './nats-topics.js';

/** Longest wait before a failed message is delivered again, or a failed consumer starts again. */
const MAX_RETRY_DELAY_MS = 30_000;
/** Longest pause between attempts on a held message while a dependency is down: resuming is prompt. */
const MAX_HOLD_DELAY_MS = 5_000;

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
 *
 * A handler that throws `Unavailable` (the store is down) has not refused the message: the worker
 * keeps it (telling JetStream it is still being worked on, so no redelivery counts against
 * `maxDeliver`), stops pulling, tries the held messages again with a growing pause, and pulls again
 * once one succeeds. An outage of any length dead-letters nothing.
 */
export function startWorker(ctx: ConsumerContext, topic: Topic, handler: Handler<unknown>): Worker {
  const { nc, js, settings } = ctx;
  const inFlight = new Set<Promise<void>>();
  const abort = new AbortController();
  let messages: ConsumerMessages | undefined;
  let stopping = false;
  let failing = false;
  /** Set while a handler reports a dependency down; resolved when an attempt succeeds again. */
  let outage: { over: Promise<void>; end: () => void } | undefined;
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

  function outageBegins(err: Unavailable) {
    if (outage) return;
    let end!: () => void;
    const over = new Promise<void>((resolve) => (end = resolve));
    outage = { over, end };
    log.warn({ err }, `bus consumer holds its messages while the ${err.service} is unavailable`);
    messages?.stop(); // pull nothing more; the loop waits for the outage to end before pulling again
  }

  function outageEnds() {
    if (!outage) return;
    outage.end();
    outage = undefined;
    log.info('bus consumer resumes: the outage is over');
  }

  /** Waits `ms` (or until stopping) while telling JetStream the message is still being worked on. */
  async function hold(m: JsMsg, ms: number) {
    const tick = setInterval(() => m.working(), Math.max(250, Math.floor(settings.ackWaitMs / 3)));
    m.working();
    try {
      await delay(ms, abort.signal);
    } finally {
      clearInterval(tick);
    }
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
    for (let held = 0; ; held++) {
      try {
        // the stream's time for the message: publish order across every publisher
        await handler(message, { order: Math.floor(m.info.timestampNanos / 1000) });
        break;
      } catch (err) {
        if (!(err instanceof Unavailable)) {
          outageEnds(); // the dependency answered, if only to refuse
          return failed(m, deliveries, err);
        }
        if (stopping) {
          m.nak(); // another consumer takes it; this delivery is counted, as any cut short by a stop
          return;
        }
        outageBegins(err);
        await hold(m, Math.min(settings.retryDelayMs * 2 ** held, MAX_HOLD_DELAY_MS));
      }
    }
    outageEnds();
    m.ack();
  }

  function failed(m: JsMsg, deliveries: number, err: unknown) {
    if (deliveries >= settings.maxDeliver)
      return deadLetter(m, `handler failed ${deliveries} times, last: ${(err as Error)?.message ?? String(err)}`, err);
    log.warn({ err, deliveries, seq: m.seq }, 'bus message failed; it will be delivered again');
    m.nak(retryDelay(deliveries));
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
          if (inFlight.size >= settings.maxInFlight) {
            // pulled already: keep it ours while the handlers (held through an outage, perhaps) finish
            const tick = setInterval(() => m.working(), Math.max(250, Math.floor(settings.ackWaitMs / 3)));
            while (inFlight.size >= settings.maxInFlight) await Promise.race(inFlight);
            clearInterval(tick);
          }
          if (stopping) {
            m.nak(); // pulled but not started: hand it straight to another consumer
            continue;
          }
          const running: Promise<void> = handle(m).finally(() => inFlight.delete(running));
          inFlight.add(running);
        }
        if (outage && !stopping) {
          // stopped on purpose: the held messages are tried again; pull once one got through (and
          // after a while anyway, should every held message have been taken from this worker)
          await Promise.race([outage.over, delay(MAX_RETRY_DELAY_MS * 10, abort.signal)]);
          continue;
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
