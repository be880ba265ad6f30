import { WattlineError } from '../errors.js';

/**
 * A live subscriber that fell further behind than its bound and was cut: gRPC RESOURCE_EXHAUSTED
 * (through its HTTP status, 429, in core/grpc/status.ts), with the reason as the message.
 */
export class SubscriberTooSlow extends WattlineError {
  constructor(message: string) {
    super('subscriber_too_slow', message, { status: 429 });
  }
}

/** One subscriber's feed, bounded by the bytes its transport has not sent yet. */
export interface BoundedSubscriber<Message> {
  /** Hands `message` to the transport; false once the subscriber has been cut (it is then dropped). */
  send(message: Message): boolean;
  /** Bytes handed to the transport and not yet sent (estimated with `sizeOf`). */
  readonly queuedBytes: number;
  /** Resolves with the reason when the subscriber is cut for falling behind; never rejects. */
  readonly cut: Promise<SubscriberTooSlow>;
}

/**
 * Bounds what a live feed (gRPC `Subscribe`, the buildings WebSocket) may queue for a client that
 * reads slower than readings arrive, or not at all: a transport accepts every write and buffers it,
 * so without a bound one idle client holds every reading stored since it stopped reading. Each
 * message counts from `write` until the transport calls `sent` (grpc-js: the write callback, once
 * HTTP/2 flow control let the frame out; ws: the send callback). Past `maxQueuedBytes` the
 * subscriber is cut: `cut` resolves with the reason, and the caller ends the stream with it.
 */
export function createBoundedSubscriber<Message>(options: {
  maxQueuedBytes: number;
  /** The setting behind the bound, named in the reason (`grpc.subscribeMaxQueuedBytes`). */
  setting: string;
  sizeOf: (message: Message) => number;
  write: (message: Message, sent: () => void) => void;
}): BoundedSubscriber<Message> {
  let queuedBytes = 0;
  let cutOff = false;
  let reportCut!: (reason: SubscriberTooSlow) => void;
  const cut = new Promise<SubscriberTooSlow>((resolve) => (reportCut = resolve));
  return {
    send(message) {
      if (cutOff) return false;
      const bytes = options.sizeOf(message);
      if (queuedBytes + bytes > options.maxQueuedBytes) {
        cutOff = true;
        reportCut(
          new SubscriberTooSlow(
            `subscriber fell behind: ${queuedBytes} bytes of readings are waiting to be sent and more arrived, ` +
              `over ${options.setting} (${options.maxQueuedBytes}); read faster or subscribe to fewer series`,
          ),
        );
        return false;
      }
      queuedBytes += bytes;
      let done = false;
      options.write(message, () => {
        if (done) return;
        done = true;
        queuedBytes -= bytes;
      });
      return true;
    },
    get queuedBytes() {
      return queuedBytes;
    },
    cut,
  };
}
