import { InvalidInput } from '../../core/errors.js';
import { createBoundedSubscriber } from '../../core/live/bounded-subscriber.js';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import { loadProto, toTimestamp, type Timestamp } from '../../core/grpc/proto.js';
import type { GrpcServer } from '../../core/grpc/server.js';
import { defineModule, type ModuleContext } from '../../core/module.js';
import { parseQueryParams, type ReadingsService } from '../readings/index.js';
import { type Settings, settings } from './settings.js';

/** `wattline.v1.QueryRequest` as decoded with `PROTO_OPTIONS`. */
interface QueryRequest {
  series: string[];
  start: Timestamp | null;
  end: Timestamp | null;
  window: string;
  agg: string;
  tz: string;
  fill: string;
  unit: string;
}

interface Streamed {
  series: string;
  time: Timestamp;
  value: number;
}

// a streamed reading's encoded size, near enough: the key, plus field tags, the timestamp's two
// varints, the double and gRPC's 5-byte frame header come to under 32 bytes
const streamedBytes = (m: Streamed) => Buffer.byteLength(m.series) + 32;

interface QueryResponse {
  results: { series: string; unit: string; points: { time: Timestamp; value?: number }[] }[];
}

/**
 * `wattline.v1.ReadingsService` (`proto/wattline/v1/readings.proto`): the full readings query of
 * `GET /api/v1/query` over gRPC (several series, every window and aggregation, increase and integral
 * included, tz, fill, unit), checked by
 * the same parser, so errors carry the same messages (as INVALID_ARGUMENT); and `Subscribe`, which
 * streams the readings of the chosen series as they are stored; a subscriber further behind than
 * `grpc.subscribeMaxQueuedBytes` is cut with RESOURCE_EXHAUSTED and the reason. Role `api`.
 */
export const readingsGrpcModule = defineModule({
  name: 'readings-grpc',
  settings,
  create: (ctx: ModuleContext<Settings>, { readings }: { readings: Pick<ReadingsService, 'query' | 'subscribe'> }) => ({
    service: undefined,
    roles: { api: { grpc: (server: GrpcServer) => addReadingsService(server, ctx, readings) } },
  }),
});

function addReadingsService(
  server: GrpcServer,
  ctx: ModuleContext<Settings>,
  readings: Pick<ReadingsService, 'query' | 'subscribe'>,
) {
  server.addService(loadProto('wattline/v1/readings.proto'), 'wattline.v1.ReadingsService', {
    Query: {
      access: 'read',
      unary: async (request: QueryRequest): Promise<QueryResponse> => {
        // keys cannot hold commas; one that does must not turn into two series
        if (request.series.some((s) => s.includes(',')))
          throw new InvalidInput('invalid_series', 'series keys cannot contain ","; list each key on its own', {
            field: 'series',
          });
        const q = parseQueryParams({
          series: request.series.join(','),
          // inclusive bounds in the store's milliseconds, rounded inwards
          start: request.start
            ? String(request.start.seconds * 1000 + Math.ceil(request.start.nanos / 1_000_000))
            : undefined,
          end: request.end ? String(request.end.seconds * 1000 + Math.floor(request.end.nanos / 1_000_000)) : undefined,
          precision: 'ms',
          window: request.window,
          agg: request.agg,
          tz: request.tz,
          fill: request.fill,
          unit: request.unit,
        });
        const results = await readings.query(q);
        return {
          results: results.map((r) => ({
            series: r.series,
            unit: r.unit ?? '',
            points: r.points.map((p) => ({
              time: toTimestamp(p.ts),
              ...(p.value === null ? {} : { value: p.value }),
            })),
          })),
        };
      },
    },
    Subscribe: {
      access: 'read',
      stream: async (request: { series: string[] }, call) => {
        if (!request.series.length)
          throw new InvalidInput('missing_series', 'series is required: one or more series keys', {
            field: 'series',
          });
        const bad = request.series.find((s) => !SERIES_KEY_PATTERN.test(s));
        if (bad !== undefined)
          throw new InvalidInput('invalid_series', `series "${bad.slice(0, 50)}" is not a valid key`, {
            field: 'series',
          });
        const subscriber = createBoundedSubscriber<Streamed>({
          maxQueuedBytes: ctx.settings.grpc.subscribeMaxQueuedBytes,
          setting: 'grpc.subscribeMaxQueuedBytes',
          sizeOf: streamedBytes,
          write: (message, sent) => call.write(message, sent),
        });
        const stop = readings.subscribe(request.series, (stored) => {
          for (const r of stored)
            if (!subscriber.send({ series: r.series, time: toTimestamp(r.ts), value: r.value })) return;
        });
        const tooSlow = await Promise.race([call.closed.then(() => undefined), subscriber.cut]);
        stop();
        if (tooSlow) {
          call.log.warn({ series: request.series.length, queuedBytes: subscriber.queuedBytes }, 'slow subscriber cut');
          // the status follows the readings already queued: the client learns why once it reads them
          throw tooSlow;
        }
      },
    },
  });
}
