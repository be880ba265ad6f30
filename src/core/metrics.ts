import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per running app (tests run several apps in one process, so nothing is
 * registered globally), with core's own metrics (HTTP and gRPC); each module registers its own on
 * `registry` (its `metrics.ts`). Names are snake_case in base units.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpConnectionsClosed: new Counter({
      name: 'http_connections_closed_total',
      help: 'HTTP connections the server closed by itself, by reason (idle: no request within http.keepAliveTimeoutMs)',
      labelNames: ['reason'] as const,
      registers,
    }),
    // edgecom's names and labels, kept so its dashboards work unchanged
    grpcRequests: new Counter({
      name: 'grpc_requests_total',
      help: 'gRPC requests by full method name',
      labelNames: ['method'] as const,
      registers,
    }),
    // by how each call ended, as go-grpc-prometheus names it: refusals (rate limit, keys) and cut
    // subscribers apart from answers, without changing edgecom's counter above
    grpcHandled: new Counter({
      name: 'grpc_server_handled_total',
      help: 'gRPC calls by full method name and the status code they ended with (OK, RESOURCE_EXHAUSTED, UNAUTHENTICATED…)',
      labelNames: ['grpc_method', 'grpc_code'] as const,
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
