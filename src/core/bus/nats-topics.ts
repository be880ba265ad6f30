import { headers, type MsgHdrs } from 'nats';
import type { Codec, CodecRegistry } from './codec.js';

/** Carries the codec's name with each message, so a reader knows the format. */
export const CODEC_HEADER = 'Wattline-Codec';
/** Room left in `max_payload` for the headers JetStream and we add. */
export const HEADER_ALLOWANCE_BYTES = 1024;

/** Where one topic lives on NATS. */
export interface Topic {
  name: string;
  /** The work-queue stream `<prefix>_<TOPIC>`. */
  stream: string;
  subject: string;
  /** Core NATS subject of broadcasts (outside every stream's subjects: never stored). */
  liveSubject: string;
  /** Where the topic's dead letters go, in the stream `<prefix>_DLQ`. */
  deadLetterSubject: string;
  codec: Codec<unknown>;
}

export type Topics = ReturnType<typeof createTopics>;

/**
 * Names each topic's stream and subjects under the prefix (`bus.stream`): topic `readings` is the
 * stream `<prefix>_READINGS` on subject `<prefix>.READINGS`. Names that would share a stream are
 * refused, as is a topic whose stream would be the dead-letter stream.
 */
export function createTopics(prefix: string, codecs: CodecRegistry) {
  const topics = new Map<string, Topic>();
  const dlqStream = `${prefix}_DLQ`;
  return {
    prefix,
    dlqStream,
    dlqSubjects: [`${prefix}.DLQ.>`],
    /** The topics this bus has published, consumed or subscribed to. */
    known: () => [...topics.values()],
    of(name: string): Topic {
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
        deadLetterSubject: `${prefix}.DLQ.${suffix}`,
        codec: codecs(name),
      };
      topics.set(name, topic);
      return topic;
    },
  };
}

export function codecHeaders(codec: Codec<unknown>): MsgHdrs {
  const h = headers();
  h.set(CODEC_HEADER, codec.name);
  return h;
}
