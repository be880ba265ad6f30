import { z } from 'zod';
import { int, listOf } from '../../core/settings.js';
import { retentionRule } from './retention.js';

/** The readings module's settings: the persistor, the compactor, the query engine and its energy arithmetic. */
export const settings = z.object({
  persist: z
    .object({
      maxBatchRows: int(
        200_000,
        1,
        10_000_000,
        'Most rows committed in one store transaction; queued batches are grouped up to this size.',
      ),
      lingerMs: int(
        0,
        0,
        10_000,
        'How long the persistor waits for more rows before committing a small batch (0: commit at once; batches still group while a commit runs).',
      ),
      catalogSaveMs: int(
        1000,
        0,
        3_600_000,
        'How often series stats (count, first/last time, last value) are written to the store; answers always come from memory, and start-up folds in anything written since.',
      ),
    })
    .prefault({}),
  compaction: z
    .object({
      intervalMs: int(5000, 50, 3_600_000, 'How often the compactor looks for partitions to sort and dedupe.'),
      quietMs: int(
        10_000,
        0,
        86_400_000,
        'A partition is sorted and deduplicated once it has had no writes for this long (an in-order day only once it is over).',
      ),
      dirtyWaitMs: int(
        60_000,
        0,
        86_400_000,
        'A partition holding resent or late readings that is still being written is rewritten at the latest this long after it became so (or after its last rewrite); queries deduplicate it meanwhile. A rewrite holds up writes, so a busy day is not rewritten on every compactor run.',
      ),
      sliceRows: int(
        5_000_000,
        1,
        1_000_000_000,
        'A day of more rows than this is compacted a slice of about this many rows at a time (by series, then by time), each slice in its own transaction, so DuckDB never sorts or holds a whole large day at once; the day counts as sorted only after its last slice, and the result is the same.',
      ),
    })
    .prefault({}),
  query: z
    .object({
      cacheSize: int(1000, 0, 1_000_000, 'Query answers kept in the LRU cache (0 turns caching off).'),
      cacheMaxBytes: int(
        64 * 2 ** 20,
        0,
        2 ** 40,
        'Most memory the query cache holds, in bytes (estimated at 160 per point); the least recently used answers are dropped first (0 turns caching off).',
      ),
      cacheMaxEntryBytes: int(
        8 * 2 ** 20,
        0,
        2 ** 40,
        'Answers estimated larger than this (bytes, 160 per point) are answered but not cached.',
      ),
      cacheTtlMs: int(
        60_000,
        0,
        86_400_000,
        'Cached answers older than this are recomputed (0: no limit) — the bound on staleness should a commit notice from another process be lost.',
      ),
      // 100,000 points are about 5 MB of JSON and 16 MB of heap while answered: a client without a
      // key cannot make one request cost much (two years of 1m buckets, filled, were 49 MB of JSON)
      maxPoints: int(
        100_000,
        1,
        100_000_000,
        "Most points one query may return (raw points or buckets, summed over its series; buckets count between each series' first and last reading, or over the whole range when filled); larger queries get 400 `too_many_points` before anything is read.",
      ),
      maxSpanMs: int(
        10_000 * 365.25 * 86_400_000,
        60_000,
        100_000 * 365.25 * 86_400_000,
        'Longest time range one query may cover, from `start` to `end` (default 10,000 years, so `start=0` with any end a client sends for "everything" works); longer ones get 400 `span_too_long`. Points per answer are bounded by `query.maxPoints` whatever the span.',
      ),
      catalogMaxLimit: int(
        10_000,
        1,
        1_000_000,
        'Most series one page of `GET /api/v1/series` may ask for (`limit`; the default page is 1,000 or this, whichever is smaller).',
      ),
    })
    .prefault({}),
  retention: z
    .object({
      rules: listOf(retentionRule)
        .default([])
        .describe(
          'Raw readings to let go: a list (YAML; JSON text in the environment) of `{pattern, keep_raw_days}` — series whose keys match the glob (`*` any characters, `?` one) keep their raw readings that many days (the longest of the rules a key matches); older whole days are deleted once their hourly rollups hold them, and answers of 1h or longer windows stay the same. `PUT /api/v1/retention` replaces these. Default: keep everything. Embedded store only for now.',
        ),
      intervalMs: int(86_400_000, 60_000, 30 * 86_400_000, 'How often the jobs role applies the retention rules.'),
    })
    .prefault({}),
  energy: z
    .object({
      maxGapMs: int(
        3_600_000,
        1000,
        366 * 86_400_000,
        'Longest time between two readings that energy arithmetic bridges: a power gauge is not integrated across a longer gap, and a counter puts its whole change across one into the bucket of the later reading.',
      ),
      resetTolerancePpm: int(
        1000,
        0,
        1_000_000,
        'A counter that drops from its previous reading by more than this many millionths of it (default 1000: 0.1 %) was reset, and counting resumes from its new value as from zero; smaller drops are jitter and ignored.',
      ),
      maxReadings: int(
        5_000_000,
        1000,
        1_000_000_000,
        'Most readings one energy, cost or carbon request may cover (the catalog counts them; the store counts the range when the catalog says more); more is a 400 asking for a shorter range or fewer series.',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
