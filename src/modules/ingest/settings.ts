import os from 'node:os';
import { z } from 'zod';
import { int } from '../../core/settings.js';

/** The ingest module's settings. */
export const settings = z.object({
  ingest: z
    .object({
      batchSize: int(
        10000,
        1,
        1_000_000,
        'Rows an ingest request hands to the persistor at a time; a request streams its body in batches of this size.',
      ),
      maxLineBytes: int(
        65536,
        64,
        16 * 1024 * 1024,
        'Longest accepted NDJSON line in UTF-8 bytes; longer lines are rejected by line number and counted in `ingest_rows_invalid_total`.',
      ),
      parseWorkers: int(
        Math.min(2, os.availableParallelism()),
        0,
        64,
        'Worker threads that parse NDJSON bodies beside the main thread (default: 2, or 1 on a one-core machine; 0 parses on the main thread).',
      ),
      maxDecompressedBytes: int(
        1024 ** 3,
        1024 ** 2,
        1024 ** 4,
        'Most bytes a compressed body (`Content-Encoding` gzip, deflate or br) may decode to; beyond it the request answers 413 with the lines stored before that point in `accepted` (a small body that inflates to gigabytes is refused).',
      ),
      maxInvalidReported: int(
        1000,
        1,
        1_000_000,
        'Invalid lines listed in a 400 reply; further bad lines are still counted in `invalidCount`.',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
