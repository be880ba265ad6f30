/**
 * The bus between adapters and consumers. `publish` resolves once the message is durable:
 * for the in-process bus that means the consumer finished with it (e.g. the persistor committed);
 * for NATS JetStream (issue #3) it means the stream stored it.
 */
export type Handler<T> = (message: T) => Promise<void>;

export interface Bus {
  readonly kind: 'in-process' | 'nats';
  publish<T>(topic: string, message: T): Promise<void>;
  /** Work-queue consumer: each message goes to one consumer of the topic. */
  consume<T>(topic: string, handler: Handler<T>): () => void;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export class NoConsumerError extends Error {
  constructor(topic: string) {
    super(`no consumer for topic ${topic} in this process`);
  }
}
