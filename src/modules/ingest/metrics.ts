import { Counter, type Registry } from 'prom-client';

/** The ingest module's metrics, on the app's registry. */
export function createIngestMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'ingest_requests_total',
      help: 'Ingest requests by outcome',
      labelNames: ['format', 'status'] as const,
      registers,
    }),
    rows: new Counter({
      name: 'ingest_rows_total',
      help: 'Readings accepted for storage',
      labelNames: ['format'] as const,
      registers,
    }),
    rowsInvalid: new Counter({
      name: 'ingest_rows_invalid_total',
      help: 'Lines rejected as invalid',
      labelNames: ['format'] as const,
      registers,
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
