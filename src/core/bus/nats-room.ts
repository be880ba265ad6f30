import { NatsError } from 'nats';
import type { Logger } from '../log.js';
import { BusFull } from './bus.js';
import type { BusMetrics, QueueFill } from './metrics.js';
import type { Streams } from './nats-streams.js';
import type { Topic } from './nats-topics.js';

/** While a topic is known to be full, how often its stream is asked again whether it has room. */
const RECHECK_MS = 500;
// JetStream answers a publish to a stream at its limits (discard "new") with this API error, and
// the description says which limit: "maximum messages exceeded", "maximum bytes exceeded"
// (nats-server JSStreamStoreFailedF, errors.json)
const STREAM_STORE_FAILED = 10077;
const LIMIT_EXCEEDED = /^maximum (messages|bytes|messages per subject) exceeded/i;

interface FullTopic {
  /** Which limit refused the last publish, for the error message. */
  limit: string;
  /** Bytes of the refused message: room means room for that much. */
  bytes: number;
  checkedAt: number;
  checking?: Promise<void>;
}

/**
 * What this process knows of its topics' room. A refused publish marks a topic full; until a
 * publish succeeds or the stream shows room again (asked at most every RECHECK_MS), `check`
 * refuses at once. A topic never refused costs no round trip.
 */
export function createRoomTracker(streams: Streams, metrics: BusMetrics, log: Logger) {
  const full = new Map<string, FullTopic>();

  async function recheck(topic: Topic, state: FullTopic) {
    try {
      const info = await streams.info(topic);
      if (!info) return void full.delete(topic.name);
      const { max_msgs, max_bytes } = info.config;
      const msgsFull = max_msgs > 0 && info.state.messages >= max_msgs;
      const bytesFull = max_bytes > 0 && info.state.bytes + state.bytes > max_bytes;
      if (!msgsFull && !bytesFull) full.delete(topic.name);
    } catch (err) {
      // cannot tell: stay full (the client retries) rather than pile publishes onto a stream in doubt
      log.warn({ err, stream: topic.stream }, 'bus stream room check failed');
    } finally {
      state.checkedAt = Date.now();
      state.checking = undefined;
    }
  }

  function refuse(topic: Topic, state: FullTopic, cause?: unknown): BusFull {
    metrics.refused(topic.name);
    return new BusFull(topic.name, `stream ${topic.stream}: ${state.limit}`, { cause });
  }

  return {
    /** The error to throw for a failed publish of `bytes`: `BusFull` when the stream was full. */
    publishFailed(topic: Topic, bytes: number, err: unknown): unknown {
      if (!(err instanceof NatsError && err.api_error?.err_code === STREAM_STORE_FAILED)) return err;
      const limit = err.api_error.description ?? '';
      if (!LIMIT_EXCEEDED.test(limit)) return err;
      const state: FullTopic = { limit, bytes, checkedAt: Date.now() };
      full.set(topic.name, state);
      return refuse(topic, state, err);
    },

    published(topic: Topic) {
      full.delete(topic.name);
    },

    /** Rejects with `BusFull` while the topic is known to be full. */
    async check(topic: Topic): Promise<void> {
      let state = full.get(topic.name);
      if (!state) return;
      if (Date.now() - state.checkedAt >= RECHECK_MS) state.checking ??= recheck(topic, state);
      await state.checking;
      state = full.get(topic.name);
      if (state) throw refuse(topic, state);
    },

    /** How full each topic's stream is now, for the `bus_queue_fill_ratio` gauge. */
    async fill(topics: Topic[]): Promise<QueueFill[]> {
      const out: QueueFill[] = [];
      for (const topic of topics) {
        const info = await streams.info(topic).catch(() => undefined);
        if (!info) continue;
        const { max_msgs, max_bytes } = info.config;
        const ratio = Math.max(
          max_msgs > 0 ? info.state.messages / max_msgs : 0,
          max_bytes > 0 ? info.state.bytes / max_bytes : 0,
        );
        out.push({ topic: topic.name, ratio: Math.min(1, ratio) });
      }
      return out;
    },
  };
}
