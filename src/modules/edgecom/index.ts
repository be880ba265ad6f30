import { InvalidInput, WattlineError } from '../../core/errors.js';
import { loadProto, toTimestamp, type Timestamp } from '../../core/grpc/proto.js';
import type { GrpcServer } from '../../core/grpc/server.js';
import { defineModule, type ModuleContext } from '../../core/module.js';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import type { ReadingsService } from '../readings/index.js';
import type { Connector } from '../sources/index.js';
import { type Settings, settings } from './settings.js';
import { createEdgecomConnector } from './upstream/index.js';
import { validateTimeSeriesRequest, type TimeSeriesRequest } from './validation.js';

interface TimeSeriesResponse {
  data: { time: Timestamp; value: number }[];
}

/**
 * edgecom's gRPC query service, wire-compatible with `proto/edgecom/timeseries.proto`:
 * `edgecom.TimeSeriesService/QueryTimeSeries` answers for the series `edgecom.series` (default
 * `edgecom`), or the one named in the `x-wattline-series` metadata. Answers come from the readings
 * query engine and its cache. Role `api`. Its service is the connector that fills that series from
 * the EdgeCom Energy API (`upstream/`), which the sources module runs.
 */
export const edgecomModule = defineModule({
  name: 'edgecom',
  settings,
  create: (ctx: ModuleContext<Settings>, { readings }: { readings: Pick<ReadingsService, 'query'> }) => ({
    service: { connectors: [createEdgecomConnector(ctx.settings.edgecom)] } satisfies EdgecomService,
    roles: { api: { grpc: (server: GrpcServer) => addTimeSeriesService(server, ctx, readings) } },
  }),
});

/** What edgecom gives other modules: the pull source of its series, for the sources module to run. */
export interface EdgecomService {
  connectors: Connector[];
}

function addTimeSeriesService(
  server: GrpcServer,
  { settings }: ModuleContext<Settings>,
  readings: Pick<ReadingsService, 'query'>,
) {
  server.addService(loadProto('edgecom/timeseries.proto'), 'edgecom.TimeSeriesService', {
    QueryTimeSeries: {
      access: 'read',
      unary: async (request: TimeSeriesRequest, call): Promise<TimeSeriesResponse> => {
        const q = validateTimeSeriesRequest(request);
        const series = seriesFrom(call.metadata.get('x-wattline-series'), settings.edgecom.series);
        const results = await readings
          .query({ series: [series], startMs: q.startMs, endMs: q.endMs, window: q.window, agg: q.agg, fill: 'none' })
          .catch((err: unknown) => {
            if (err instanceof WattlineError) throw err;
            // edgecom's wording; the driver's message stays in the log
            throw new WattlineError('query_failed', 'query failed: store error', { cause: err });
          });
        // buckets are in time order and empty ones are left out (no fill), so every value is a number
        return {
          data: results[0].points.flatMap((p) =>
            p.value === null ? [] : [{ time: toTimestamp(p.ts), value: p.value }],
          ),
        };
      },
    },
  });
}

function seriesFrom(values: unknown[], fallback: string): string {
  if (values.length === 0) return fallback;
  const [value] = values;
  if (values.length > 1 || typeof value !== 'string' || !SERIES_KEY_PATTERN.test(value)) {
    throw new InvalidInput(
      'invalid_series',
      'x-wattline-series must be one series key (letters, digits and _ . : / -, at most 200)',
      { field: 'x-wattline-series' },
    );
  }
  return value;
}
