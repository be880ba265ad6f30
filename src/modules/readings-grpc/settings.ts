import { z } from 'zod';
import { int } from '../../core/settings.js';

/** The readings-grpc module's settings. */
export const settings = z.object({
  grpc: z
    .object({
      subscribeMaxQueuedBytes: int(
        16 * 1024 ** 2,
        64 * 1024,
        1024 ** 3,
        'Most bytes of readings a `Subscribe` stream may have waiting for a client that reads slower than they arrive; past it the stream ends with RESOURCE_EXHAUSTED and the reason (the client may subscribe again).',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
