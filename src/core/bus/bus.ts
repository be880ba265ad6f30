import { Overloaded } from '../errors.js';

/**
 * The bus between adapters and consumers. Both implementations keep one contract
 * (test/bus-contract.test.ts), with these differences:
 *
 * - `publish` resolves once the message is durable. In-process: when a consumer finished with it
 *   (e.g. the persistor committed), so it rejects when there is no consumer in this process or the
 *   handler fails — the publisher sees the failure and nothing is retried. NATS JetStream: when the
 *   stream stored it; a consumer started later (in any process) gets it.
 * - A handler failure on NATS leads to redelivery after a short, growing delay; after
 *   `bus.maxDeliver` deliveries the message goes to the dead-letter stream `<prefix>_DLQ` with the
 *   reason in its headers, and the reason is logged. A handler that throws `Unavailable` (the store
 *   is down: core/errors.ts) did not refuse the message: NATS keeps it in flight (no delivery is
 *   counted), stops pulling more, tries again with a growing pause (up to 5 s) and resumes pulling
 *   once an attempt succeeds; in-process the publisher gets the `Unavailable` (HTTP 503 with
 *   `Retry-After`), as it gets every failure. A message is handled at least once: a handler
 *   that outlives `bus.ackWaitMs` sees it again, so handlers must be idempotent (the persistor is).
 * - Messages cross NATS as bytes (see codec.ts: reading batches in a compact binary form, other
 *   topics as JSON); in-process they are passed by reference and must not be mutated after publish.
 *   A reading batch larger than the NATS `max_payload` travels in parts, each handled on its own.
 * - Each topic's queue has a limit, and a publish on a full queue rejects with `BusFull` (an
 *   `Overloaded`: HTTP 503 with `Retry-After`) instead of buffering more. In-process: rows of
 *   reading batches (other messages count 1) published and not yet handled, up to `bus.queueLimit`.
 *   NATS: the stream's `bus.maxMessages` and `bus.maxBytes`, with discard policy "new", so a full
 *   stream refuses new messages and never drops stored, unacknowledged ones. A publish split into
 *   parts may have stored some parts before one is refused; the consumers then handle those.
 */
/** What the bus says of a message besides its content. */
export interface MessageMeta {
  /**
   * When the bus took the message, in µs since 1970: later publishes have larger values, across
   * processes on NATS (JetStream's time for the message) and across restarts in-process (the
   * clock, kept increasing). A redelivered message keeps its value. Consumers that may handle
   * messages out of order (several persistors) let the larger one win.
   */
  order: number;
}

export type Handler<T> = (message: T, meta: MessageMeta) => Promise<void>;

/** A message in the dead-letter stream, as `deadLetters` lists it (its data stays on the bus). */
export interface DeadLetter {
  /** What `replayDeadLetters({ ids })` takes (NATS: the dead-letter stream's sequence). */
  id: string;
  topic: string;
  /** Why it was dead-lettered, e.g. `handler failed 5 times, last: …`. */
  reason: string;
  deliveries: number;
  /** When it was dead-lettered, ISO 8601. */
  time: string;
  bytes: number;
}

export interface DeadLetterQuery {
  /** Only this topic's dead letters (default: every topic). */
  topic?: string;
  /** Only these ids (replay; default: all that match `topic`). */
  ids?: readonly string[];
  /** Most to list (default 100). */
  limit?: number;
}

export interface Bus {
  readonly kind: 'in-process' | 'nats';
  publish<T>(topic: string, message: T): Promise<void>;
  /**
   * Work-queue consumer: each message goes to one consumer of the topic (across processes on
   * NATS). The returned function stops taking new messages; `close()` waits for the handlers
   * still running and acknowledges their messages.
   */
  consume<T>(topic: string, handler: Handler<T>): () => void;
  /**
   * Live fan-out: every subscriber of the topic, in every process, gets the message — at most
   * once and only while subscribed (nothing is stored). For notices like "these readings landed".
   */
  broadcast<T>(topic: string, message: T): void;
  /** Receives the topic's broadcasts from now on; the returned function unsubscribes. */
  subscribe<T>(topic: string, listener: (message: T) => void): () => void;
  /**
   * Rejects with `BusFull` when a publish on the topic would be refused now, so a publisher can say
   * so before it reads its input. NATS: answered from what this process learnt — a refused publish
   * marks the topic full, and while it is, the stream is asked again at most every half second.
   */
  checkRoom(topic: string): Promise<void>;
  /**
   * The dead letters, oldest first. In-process there are none: a failure reaches the publisher,
   * so nothing is ever dead-lettered there.
   */
  deadLetters(query?: DeadLetterQuery): Promise<DeadLetter[]>;
  /**
   * Publishes the matching dead letters to their topics again, byte for byte, and removes each
   * from the dead-letter stream once its topic stored it. Resolves with how many were replayed.
   */
  replayDeadLetters(query?: DeadLetterQuery): Promise<number>;
  /** True while messages can be published and consumed (NATS: the connection answers). */
  ready(): Promise<boolean>;
  /** Stops consuming, waits for in-flight handlers to finish, then closes. */
  close(): Promise<void>;
}

/** What a refused publisher is told to wait: about as long as the persistors take to free room. */
const BUS_FULL_RETRY_AFTER_S = 1;

/** A publish refused because the topic's queue is at its limit; the refused message (or part) was not kept. */
export class BusFull extends Overloaded {
  readonly topic: string;
  constructor(topic: string, limit: string, options: { cause?: unknown } = {}) {
    super(`the bus queue of ${topic} is full (${limit}); retry shortly`, BUS_FULL_RETRY_AFTER_S);
    this.topic = topic;
    if (options.cause) this.cause = options.cause;
  }
}

export class NoConsumerError extends Error {
  constructor(topic: string) {
    super(`no consumer for topic ${topic} in this process`);
  }
}
