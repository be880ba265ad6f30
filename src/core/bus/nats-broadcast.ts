import type { NatsConnection } from 'nats';
import type { Logger } from '../log.js';
import { HEADER_ALLOWANCE_BYTES, type Topics } from './nats-topics.js';

/**
 * Broadcasts over core NATS (not JetStream): each topic's live subject reaches every subscriber in
 * every process, at most once, and nothing is stored. A message too large for one NATS message
 * travels in parts; one that cannot be split is dropped with a warning.
 */
export function createBroadcast(nc: NatsConnection, topics: Topics, maxPayload: number, log: Logger) {
  return {
    broadcast(topicName: string, message: unknown) {
      if (nc.isClosed()) return;
      const topic = topics.of(topicName);
      const send = (part: unknown) => {
        const data = topic.codec.encode(part);
        if (data.length + HEADER_ALLOWANCE_BYTES <= maxPayload) return nc.publish(topic.liveSubject, data);
        const halves = topic.codec.split?.(part);
        if (halves) halves.forEach(send);
        else log.warn({ topic: topicName, bytes: data.length }, 'broadcast too large for one message; dropped');
      };
      send(message);
    },

    subscribe(topicName: string, listener: (message: unknown) => void): () => void {
      const topic = topics.of(topicName);
      const sub = nc.subscribe(topic.liveSubject, {
        callback: (err, m) => {
          if (err) return;
          try {
            listener(topic.codec.decode(m.data));
          } catch (e) {
            log.warn({ err: e, topic: topicName }, 'broadcast not handled');
          }
        },
      });
      return () => sub.unsubscribe();
    },
  };
}
