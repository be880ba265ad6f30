import type { Registry } from 'prom-client';
import { READINGS_TOPIC, type ReadingBatch } from '../readings.js';
import { BusFull, NoConsumerError, type Bus, type Handler } from './bus.js';
import { createBusMetrics } from './metrics.js';

export interface InProcessBusOptions {
  /**
   * Most a topic may hold published and not yet handled (`bus.queueLimit`): rows for reading
   * batches, 1 for any other message. A publish while the topic holds this much rejects with
   * `BusFull`. Default: no limit.
   */
  queueLimit?: number;
  /** Where the bus's metrics are registered. */
  metrics?: Registry;
}

/** The weight a message adds to its topic's queue: what `queueLimit` counts. */
function weightOf(topic: string, message: unknown): number {
  return topic === READINGS_TOPIC ? (message as ReadingBatch).length : 1;
}

/**
 * The single-process bus: a publish hands the message to one consumer of the topic (round-robin)
 * and resolves when that consumer has finished with it, so "published" means "handled".
 */
export function createInProcessBus(options: InProcessBusOptions = {}): Bus {
  const queueLimit = options.queueLimit ?? Infinity;
  const consumers = new Map<string, Handler<unknown>[]>();
  const inFlight = new Set<Promise<void>>();
  /** Per topic, the weight of the messages published and not yet handled. */
  const queued = new Map<string, number>();
  const listeners = new Map<string, Set<(message: unknown) => void>>();
  const metrics = createBusMetrics(
    options.metrics,
    async () =>
      Number.isFinite(queueLimit)
        ? [...queued].map(([topic, weight]) => ({ topic, ratio: Math.min(1, weight / queueLimit) }))
        : [],
    () => queued,
  );
  let next = 0;
  let closed = false;
  // µs since 1970, never the same twice: the order of publishes, still increasing after a restart
  let lastOrder = 0;

  function checkRoom(topic: string) {
    if ((queued.get(topic) ?? 0) < queueLimit) return;
    metrics.refused(topic);
    const unit = topic === READINGS_TOPIC ? 'rows' : 'messages';
    throw new BusFull(topic, `${queueLimit} ${unit} or more waiting to be handled`);
  }

  return {
    kind: 'in-process',
    async publish<T>(topic: string, message: T) {
      if (closed) throw new Error('bus is closed');
      const list = consumers.get(topic);
      if (!list?.length) throw new NoConsumerError(topic);
      checkRoom(topic);
      const weight = weightOf(topic, message);
      queued.set(topic, (queued.get(topic) ?? 0) + weight);
      try {
        const handler = list[next++ % list.length];
        lastOrder = Math.max(Date.now() * 1000, lastOrder + 1);
        // close() waits for handlers still running; their failures belong to their publishers
        const handled = handler(message, { order: lastOrder });
        const settled = handled.catch(() => undefined);
        inFlight.add(settled);
        try {
          await handled;
        } finally {
          inFlight.delete(settled);
        }
      } finally {
        queued.set(topic, queued.get(topic)! - weight);
      }
    },
    async checkRoom(topic: string) {
      checkRoom(topic);
    },
    consume<T>(topic: string, handler: Handler<T>) {
      const list = consumers.get(topic) ?? [];
      list.push(handler as Handler<unknown>);
      consumers.set(topic, list);
      return () => {
        const i = list.indexOf(handler as Handler<unknown>);
        if (i >= 0) list.splice(i, 1);
      };
    },
    broadcast<T>(topic: string, message: T) {
      if (closed) return;
      for (const listener of listeners.get(topic) ?? []) {
        try {
          listener(message);
        } catch {
          // a listener's failure is its own; the others still hear
        }
      }
    },
    subscribe<T>(topic: string, listener: (message: T) => void) {
      let set = listeners.get(topic);
      if (!set) listeners.set(topic, (set = new Set()));
      const l = listener as (message: unknown) => void;
      set.add(l);
      return () => void set.delete(l);
    },
    // failures reach their publishers: nothing is ever dead-lettered in-process
    async deadLetters() {
      return [];
    },
    async replayDeadLetters() {
      return 0;
    },
    async ready() {
      return !closed;
    },
    async close() {
      closed = true;
      consumers.clear();
      listeners.clear();
      await Promise.all(inFlight);
    },
  };
}
