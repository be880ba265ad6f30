import os from 'node:os';
import { z } from 'zod';
import { int } from '../../core/settings.js';
import { parseTimestamp } from '../../core/time/timestamps.js';

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
        'Longest accepted NDJSON line (or value in a JSON body) in UTF-8 bytes; longer ones are rejected by line number and counted in `ingest_rows_invalid_total`.',
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
      minTime: z.coerce
        .string()
        .refine((s) => !Number.isNaN(parseTimestamp(s)), {
          error: 'expected an ISO 8601 time such as 1970-01-01T00:00:00Z (or an epoch number)',
        })
        .default('1970-01-01T00:00:00Z')
        .describe(
          'Earliest time a reading sent to `/ingest` may have (ISO 8601, or an epoch number); earlier lines are refused by line number.',
        ),
      maxFutureMs: int(
        63_072_000_000,
        0,
        3_153_600_000_000,
        'How far past the time of the request a reading may be, in ms (default 2 years); later lines are refused by line number, so a mistyped year 9999 cannot pin the last reading time.',
      ),
      lineProtocolSeriesTags: z
        .preprocess(
          (v) =>
            typeof v === 'string'
              ? v
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean)
              : v,
          z.array(z.string().min(1)),
        )
        .default([])
        .describe(
          'Line protocol (`POST /write`, `POST /api/v2/write`): the tag keys whose values name a series, in order, comma-separated — `meter,phase` makes `power,meter=m1,phase=L1 p=5` the series `power/m1/L1/p`. Empty: `<measurement>/<field>`. Every tag is kept in the catalog either way.',
        ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
