import { headers, type JetStreamClient, type JetStreamManager, type StoredMsg } from 'nats';
import type { DeadLetter, DeadLetterQuery } from './bus.js';
import { isApiError, type Streams } from './nats-streams.js';
import { CODEC_HEADER, type Topics } from './nats-topics.js';

// JetStream API error codes (nats-server errors.json)
const STREAM_NOT_FOUND = 10059;
const NO_MESSAGE_FOUND = 10037;
const DEFAULT_LIMIT = 100;

/**
 * The dead-letter stream `<prefix>_DLQ` as a list: what is there (with the reason the consumer
 * wrote in its headers), and replay — publish each back to its topic, then delete it from the
 * stream, so a replayed message is in one of the two places at any moment (in both, briefly, if
 * the delete fails: the persistor's writes are idempotent).
 */
export function createDeadLetters(jsm: JetStreamManager, js: JetStreamClient, topics: Topics, streams: Streams) {
  /** The stored dead letters matching `query`, oldest first, read one by one (deleted ones skipped). */
  async function* stored(query: DeadLetterQuery): AsyncGenerator<StoredMsg> {
    const info = await jsm.streams.info(topics.dlqStream).catch((err: unknown) => {
      if (isApiError(err, STREAM_NOT_FOUND)) return undefined;
      throw err;
    });
    if (!info || info.state.messages === 0) return;
    const ids = query.ids ? new Set(query.ids) : undefined;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      if (ids && !ids.has(String(seq))) continue;
      const m = await jsm.streams.getMessage(topics.dlqStream, { seq }).catch((err: unknown) => {
        if (isApiError(err, NO_MESSAGE_FOUND)) return undefined;
        throw err;
      });
      if (!m) continue;
      if (query.topic !== undefined && m.header.get('Wattline-Topic') !== query.topic) continue;
      yield m;
    }
  }

  return {
    async list(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
      const limit = query.limit ?? DEFAULT_LIMIT;
      const out: DeadLetter[] = [];
      if (limit <= 0) return out;
      for await (const m of stored(query)) {
        out.push({
          id: String(m.seq),
          topic: m.header.get('Wattline-Topic'),
          reason: m.header.get('Wattline-Reason'),
          deliveries: Number(m.header.get('Wattline-Deliveries')) || 0,
          time: m.time.toISOString(),
          bytes: m.data.length,
        });
        if (out.length >= limit) break;
      }
      return out;
    },

    async replay(query: DeadLetterQuery = {}): Promise<number> {
      let replayed = 0;
      for await (const m of stored(query)) {
        const topic = topics.of(m.header.get('Wattline-Topic'));
        await streams.ensureTopicStream(topic);
        const h = headers();
        h.set(CODEC_HEADER, m.header.get(CODEC_HEADER) || topic.codec.name);
        await js.publish(topic.subject, m.data, { headers: h });
        await jsm.streams.deleteMessage(topics.dlqStream, m.seq, false);
        replayed++;
      }
      return replayed;
    },
  };
}
