import { NoConsumerError, type Bus, type Handler } from './bus.js';

/**
 * The single-process bus: a publish hands the message to one consumer of the topic (round-robin)
 * and resolves when that consumer has finished with it, so "published" means "handled".
 */
export function createInProcessBus(): Bus {
  const consumers = new Map<string, Handler<unknown>[]>();
  const inFlight = new Set<Promise<void>>();
  const listeners = new Map<string, Set<(message: unknown) => void>>();
  let next = 0;
  let closed = false;
  return {
    kind: 'in-process',
    async publish<T>(topic: string, message: T) {
      if (closed) throw new Error('bus is closed');
      const list = consumers.get(topic);
      if (!list?.length) throw new NoConsumerError(topic);
      const handler = list[next++ % list.length];
      // close() waits for handlers still running; their failures belong to their publishers
      const handled = handler(message);
      const settled = handled.catch(() => undefined);
      inFlight.add(settled);
      try {
        await handled;
      } finally {
        inFlight.delete(settled);
      }
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
