import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The readings module's metrics: persistor, compactor and queries, on the app's registry. */
export function createReadingsMetrics(registry: Registry) {
  const registers = [registry];
  return {
    persistQueueRows: new Gauge({
      name: 'persist_queue_rows',
      help: 'Rows waiting to be committed to the store',
      registers,
    }),
    persistCommitSeconds: new Histogram({
      name: 'persist_batch_commit_seconds',
      help: 'Time to commit one batch of readings to the store',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    persistRows: new Counter({ name: 'persist_rows_total', help: 'Rows committed to the store', registers }),
    compactions: new Counter({
      name: 'compaction_runs_total',
      help: 'Partitions rewritten sorted and deduplicated',
      registers,
    }),
    queryDuration: new Histogram({
      name: 'query_duration_seconds',
      help: 'Time to answer a readings query (cache hits included)',
      labelNames: ['cache'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
    queryCacheHits: new Counter({ name: 'query_cache_hits_total', help: 'Queries answered from the cache', registers }),
    queryCacheMisses: new Counter({
      name: 'query_cache_misses_total',
      help: 'Queries that went to the store',
      registers,
    }),
  };
}

export type ReadingsMetrics = ReturnType<typeof createReadingsMetrics>;
