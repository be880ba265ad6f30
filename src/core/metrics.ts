import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per running app (tests run several apps in one process, so nothing is
 * registered globally). Names are snake_case in base units.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    ingestRequests: new Counter({
      name: 'ingest_requests_total',
      help: 'Ingest requests by outcome',
      labelNames: ['format', 'status'] as const,
      registers,
    }),
    ingestRows: new Counter({
      name: 'ingest_rows_total',
      help: 'Readings accepted for storage',
      labelNames: ['format'] as const,
      registers,
    }),
    ingestRowsInvalid: new Counter({
      name: 'ingest_rows_invalid_total',
      help: 'Lines rejected as invalid',
      labelNames: ['format'] as const,
      registers,
    }),
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
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    // edgecom's names and labels, kept so its dashboards work unchanged
    grpcRequests: new Counter({
      name: 'grpc_requests_total',
      help: 'gRPC requests by full method name',
      labelNames: ['method'] as const,
      registers,
    }),
    grpcRequestDuration: new Histogram({
      name: 'grpc_request_duration_seconds',
      help: 'Time to answer a gRPC request, rejected ones included',
      labelNames: ['method'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
