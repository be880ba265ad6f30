import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  NatsError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from 'nats';
import type { Logger } from '../log.js';
import type { Topic, Topics } from './nats-topics.js';

/** The durable consumer every process shares per topic stream, so they split the work. */
export const DURABLE = 'workers';
// JetStream API error codes (nats-server errors.json)
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

export interface StreamSettings {
  /** Longest an unconsumed message is kept (0: no limit). */
  maxAgeS: number;
  replicas: number;
  /** Most bytes a topic's work-queue stream holds before it refuses publishes. */
  maxBytes: number;
  /** Most messages a topic's work-queue stream holds before it refuses publishes. */
  maxMessages: number;
  /** How long a handler may work on a message before JetStream delivers it again. */
  ackWaitMs: number;
}

type Limits = Pick<StreamConfig, 'max_bytes' | 'max_msgs'>;
/** What the bus sets on a stream; the rest is the server's default or the operator's. */
type WantedStream = Pick<StreamConfig, 'name' | 'subjects' | 'retention' | 'discard'> & Partial<Limits>;

export type Streams = ReturnType<typeof createStreams>;

/**
 * Creates the streams and the shared durable consumers, or brings existing ones in line with the
 * settings, once per bus. Topic streams are work queues with discard policy "new": when full they
 * refuse new messages rather than drop stored ones nobody has acknowledged yet. The dead-letter
 * stream keeps messages by age only.
 */
export function createStreams(jsm: JetStreamManager, topics: Topics, settings: StreamSettings, log: Logger) {
  const maxAge = nanos(settings.maxAgeS * 1000);
  const streamsReady = new Map<string, Promise<void>>();

  function ensureStream(config: WantedStream): Promise<void> {
    let ready = streamsReady.get(config.name);
    if (!ready) {
      ready = createOrUpdate(config);
      streamsReady.set(config.name, ready);
      ready.catch(() => streamsReady.delete(config.name)); // try again next time
    }
    return ready;
  }

  async function createOrUpdate(config: WantedStream) {
    const wanted: Partial<StreamConfig> & { name: string } = {
      ...config,
      storage: StorageType.File,
      max_age: maxAge,
      num_replicas: settings.replicas,
      // the server refuses a duplicate window longer than the max age
      ...(maxAge > 0 && maxAge < nanos(120_000) ? { duplicate_window: maxAge } : {}),
    };
    const existing = await info(config.name);
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
    if (config.max_bytes !== undefined) wanted.max_bytes = safeLimit(existing, 'max_bytes', config.max_bytes);
    if (config.max_msgs !== undefined) wanted.max_msgs = safeLimit(existing, 'max_msgs', config.max_msgs);
    const differs =
      have.max_age !== wanted.max_age ||
      have.num_replicas !== wanted.num_replicas ||
      have.discard !== wanted.discard ||
      (wanted.max_bytes !== undefined && have.max_bytes !== wanted.max_bytes) ||
      (wanted.max_msgs !== undefined && have.max_msgs !== wanted.max_msgs) ||
      config.subjects.some((s) => !have.subjects.includes(s));
    if (differs) {
      await jsm.streams.update(config.name, {
        ...have,
        ...wanted,
        subjects: [...new Set([...have.subjects, ...config.subjects])],
      });
      log.info({ stream: config.name }, 'bus stream updated to the settings');
    }
  }

  /**
   * The limit to set on an existing stream. Lowering a limit below what the stream holds makes
   * the server delete messages to fit, whatever the discard policy (seen on nats-server 2.9), and
   * those may be unacknowledged readings: a limit is lowered only while the stream holds at most
   * half the new one (room for publishes racing the update), otherwise the old one stays.
   */
  function safeLimit(existing: StreamInfo, field: keyof Limits, want: number): number {
    const have = existing.config[field];
    const holds = field === 'max_bytes' ? existing.state.bytes : existing.state.messages;
    const lowering = have === undefined || have <= 0 || want < have;
    if (!lowering || holds * 2 <= want) return want;
    log.warn(
      { stream: existing.config.name, limit: field, holds, kept: have, wanted: want },
      'bus stream holds too much to lower its limit safely; the old limit stays until it drains and the bus restarts',
    );
    return have;
  }

  async function info(stream: string): Promise<StreamInfo | undefined> {
    return jsm.streams.info(stream).catch((err: unknown) => {
      if (isApiError(err, STREAM_NOT_FOUND)) return undefined;
      throw err;
    });
  }

  const ensureTopicStream = (topic: Topic) =>
    ensureStream({
      name: topic.stream,
      subjects: [topic.subject],
      retention: RetentionPolicy.Workqueue,
      discard: DiscardPolicy.New,
      max_bytes: settings.maxBytes,
      max_msgs: settings.maxMessages,
    });

  return {
    ensureTopicStream,
    /** Dead letters are kept by age only: a full dead-letter stream would strand them in the work queue. */
    ensureDlqStream: () =>
      ensureStream({
        name: topics.dlqStream,
        subjects: topics.dlqSubjects,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
      }),

    /** The topic's stream as the server sees it now; undefined before anyone used the topic. */
    info: (topic: Topic) => info(topic.stream),

    async ensureConsumer(topic: Topic) {
      await ensureTopicStream(topic);
      const wanted = {
        durable_name: DURABLE,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(settings.ackWaitMs),
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
        await jsm.consumers.update(topic.stream, DURABLE, {
          ack_wait: wanted.ack_wait,
          max_deliver: wanted.max_deliver,
        });
      }
    },
  };
}

export function isApiError(err: unknown, code: number): boolean {
  return err instanceof NatsError && err.api_error?.err_code === code;
}
