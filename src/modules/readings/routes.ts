import type { FastifyPluginAsync } from 'fastify';
import { createZonedIsoFormatter, formatTime } from '../../core/time/buckets.js';
import { createIsoFormatter } from '../../core/time/timestamps.js';
import { CATALOG_DEFAULT_LIMIT, encodeCursor, parseCatalogParams } from './catalog-page.js';
import { type SeriesWarning, unknownSeriesWarnings } from './closest.js';
import {
  AGGREGATIONS,
  type Answer,
  parseQueryParams,
  QUERY_UNITS,
  type QueryEngine,
  type SeriesPoints,
} from './query.js';
import type { ReadingsStorage, SeriesEntry } from './storage.js';

const pointsSchema = {
  type: 'array',
  items: { type: 'object', properties: { time: { type: 'string' }, value: { type: ['number', 'null'] } } },
} as const;

/** A catalog entry as the API shows it: the listing, `GET` and `PUT /api/v1/series/{key}`. */
export const seriesSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    unit: { type: ['string', 'null'] },
    kind: { type: 'string' },
    description: { type: ['string', 'null'] },
    interval_s: { type: ['number', 'null'], description: 'Seconds each reading covers (interval series)' },
    firstTime: { type: ['string', 'null'] },
    lastTime: { type: ['string', 'null'] },
    count: { type: 'number' },
    tags: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
  },
} as const;

export const catalogEntry = (s: SeriesEntry) => ({
  key: s.key,
  unit: s.unit,
  kind: s.kind,
  description: s.description,
  interval_s: s.intervalS,
  firstTime: Number.isFinite(s.firstTs) ? formatTime(s.firstTs) : null,
  lastTime: Number.isFinite(s.lastTs) ? formatTime(s.lastTs) : null,
  count: s.count,
  tags: s.tags,
});

/** Queries: `/api/v1/query` and the catalog `/api/v1/series` (one series' routes: series-routes.ts). */
export const readingsRoutes =
  (deps: { engine: QueryEngine; storage: ReadingsStorage; catalogMaxLimit: number }): FastifyPluginAsync =>
  async (http) => {
    // a cached answer comes back as the same object: its formatted times and warnings go with it, made once
    const formatted = new WeakMap<SeriesPoints[], ReturnType<typeof formatResults>>();
    const warned = new WeakMap<Answer, SeriesWarning[]>();

    http.get(
      '/api/v1/query',
      {
        schema: {
          summary: 'Aggregate or list readings of one or more series',
          description:
            'A series not in the catalog gets an empty result and an entry in `warnings` naming the closest known key (`closest`, null when none is close).',
          tags: ['readings'],
          querystring: {
            type: 'object',
            // documentation only (validatorCompiler below): parseQueryParams checks them, naming each
            required: ['series', 'start', 'end'],
            properties: {
              series: { type: 'string', description: 'Series keys, comma-separated' },
              start: { type: 'string', description: 'ISO 8601 or an epoch number (inclusive)' },
              end: { type: 'string', description: 'ISO 8601 or an epoch number (inclusive)' },
              precision: {
                type: 'string',
                enum: ['s', 'ms', 'us', 'ns'],
                description:
                  'Unit of epoch numbers in start and end; omitted: their digits say (10–11 s, 13 ms, 16 µs, 19 ns)',
              },
              window: {
                type: 'string',
                enum: ['1m', '5m', '15m', '30m', '1h', '1d'],
                description: 'Bucket width; none: raw points',
              },
              agg: {
                type: 'string',
                enum: [...AGGREGATIONS],
                default: 'avg',
                description:
                  "Needs a window. increase: a counter's consumption (resets counted); integral: a power gauge's energy; sum of an interval series under its interval shares each reading out",
              },
              unit: {
                type: 'string',
                enum: [...QUERY_UNITS],
                description:
                  "Values in this unit: power (W, kW, MW) for power, energy (Wh, kWh, MWh) for energy and integrals; omitted: the series' own (an integral of W in Wh)",
              },
              tz: {
                type: 'string',
                description: 'IANA time zone: 1d buckets start at local midnight; times shown with its offset',
              },
              fill: {
                type: 'string',
                enum: ['null', 'previous', '0'],
                description: 'Fill empty buckets; omitted: left out',
              },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                results: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      series: { type: 'string' },
                      unit: { type: ['string', 'null'] },
                      points: pointsSchema,
                    },
                  },
                },
                warnings: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      series: { type: 'string' },
                      warning: { type: 'string' },
                      closest: { type: ['string', 'null'] },
                    },
                  },
                },
              },
            },
          },
        },
        // parameters are checked by parseQueryParams, which names the parameter in its 400
        validatorCompiler: () => () => true,
      },
      async (request) => {
        const q = parseQueryParams(request.query as Record<string, unknown>);
        const answer = await deps.engine.answer(q);
        let body = formatted.get(answer.results);
        if (!body) formatted.set(answer.results, (body = formatResults(answer.results, q.tz)));
        let warnings = warned.get(answer);
        if (!warnings) warned.set(answer, (warnings = await unknownSeriesWarnings(deps.storage, answer.unknown)));
        return { results: body, warnings };
      },
    );

    http.get(
      '/api/v1/series',
      {
        schema: {
          summary: 'The series catalog, a page at a time',
          description:
            'Sorted by key. Follow `next` (null on the last page) as `cursor` for the next page. `count` is exact on PostgreSQL; on the embedded store a reading written again (resent or corrected) is counted again until compaction rewrites its day (`compaction.quietMs` after the last write to it).',
          tags: ['readings'],
          querystring: {
            type: 'object',
            properties: {
              limit: {
                type: 'string',
                description: `Most series in the answer, 1–${deps.catalogMaxLimit} (query.catalogMaxLimit; default ${Math.min(CATALOG_DEFAULT_LIMIT, deps.catalogMaxLimit)})`,
              },
              prefix: { type: 'string', description: 'Only keys starting with this' },
              cursor: { type: 'string', description: 'The `next` of the previous page' },
            },
            additionalProperties: {
              type: 'string',
              description:
                '`tag.<key>=<value>`: only series with that tag (line protocol tags), all of them when several',
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                series: { type: 'array', items: seriesSchema },
                next: { type: ['string', 'null'] },
              },
            },
          },
        },
        // parameters are checked by parseCatalogParams, which names the parameter in its 400
        validatorCompiler: () => () => true,
      },
      async (request) => {
        const page = parseCatalogParams(request.query as Record<string, unknown>, deps.catalogMaxLimit);
        // one more than asked: whether there is a next page, without a count over the catalog
        const entries = await deps.storage.listSeries({ ...page, limit: page.limit + 1 });
        const shown = entries.length > page.limit ? entries.slice(0, page.limit) : entries;
        return {
          series: shown.map(catalogEntry),
          next: entries.length > page.limit ? encodeCursor(shown[shown.length - 1].key) : null,
        };
      },
    );
  };

/** Points as the API shows them: ISO 8601 times, UTC (`…Z`) or with the offset of `tz` when one was asked for. */
function formatResults(results: readonly SeriesPoints[], tz: string | undefined) {
  const format = tz ? createZonedIsoFormatter(tz) : createIsoFormatter();
  return results.map((r) => ({
    series: r.series,
    unit: r.unit,
    points: r.points.map((p) => ({ time: format(p.ts), value: p.value })),
  }));
}
