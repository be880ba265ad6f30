import type { Registry } from 'prom-client';
import type { CoreConfig as Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Bus } from './bus.js';
import { createInProcessBus } from './in-process.js';
import { createNatsBus } from './nats.js';

export type { Bus, DeadLetter, DeadLetterQuery, Handler } from './bus.js';
export { BusFull, NoConsumerError } from './bus.js';
export { createInProcessBus, type InProcessBusOptions } from './in-process.js';
export { createNatsBus, type NatsBusOptions } from './nats.js';
export { CodecError, defaultCodecs, jsonCodec, readingBatchCodec, type Codec, type CodecRegistry } from './codec.js';

/**
 * Opens the bus the config names: NATS JetStream when `busUrl` (BUS_URL) is set, with the
 * `bus.*` settings; otherwise the in-process bus, whose queue limit is `bus.queueLimit`.
 * Its metrics go to `metrics`. Rejects when NATS cannot be reached.
 */
export async function openBus(config: Pick<Config, 'busUrl' | 'bus'>, log: Logger, metrics?: Registry): Promise<Bus> {
  if (!config.busUrl) return createInProcessBus({ queueLimit: config.bus.queueLimit, metrics });
  return createNatsBus({ url: config.busUrl, ...config.bus, log: log.child({ module: 'bus' }), metrics });
}
