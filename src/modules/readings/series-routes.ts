import type { FastifyPluginAsync } from 'fastify';
import { KNOWN_UNITS, isEnergyUnit, isKnownUnit } from '../../core/energy/units.js';
import { InvalidInput, NotFound } from '../../core/errors.js';
import { SERIES_KEY_PATTERN, SERIES_KINDS, type SeriesKind } from '../../core/readings.js';
import { formatTime } from '../../core/time/buckets.js';
import { catalogEntry, seriesSchema } from './routes.js';
import type { ReadingsStorage, SeriesDescription, SeriesEntry } from './storage.js';

const MAX_DESCRIPTION = 500;
/** 31 days: the longest interval a reading may cover (a monthly bill). */
const MAX_INTERVAL_S = 2_678_400;
const ENERGY_UNITS = 'Wh, kWh, MWh';

/** What `PUT /api/v1/series/{key}` may say; absent leaves a field as it is, null clears it. */
interface SeriesBody {
  unit?: string | null;
  kind?: string;
  description?: string | null;
  interval_s?: number | null;
}

// required: how the serializer tells it from a catalog entry
const latestSchema = {
  type: 'object',
  required: ['series', 'time', 'value'],
  properties: { series: { type: 'string' }, time: { type: 'string' }, value: { type: 'number' } },
} as const;

/**
 * One series: `GET /api/v1/series/{key}` (its catalog entry), `GET /api/v1/series/{key}/latest`
 * (its latest value) and `PUT /api/v1/series/{key}` (its unit, kind, description and interval).
 * Keys hold '/', so both are routed on the wildcard. `onDescribed` runs after a PUT changed the
 * catalog: answers worked out with the old unit or kind must go.
 */
export const seriesRoutes =
  (deps: { storage: ReadingsStorage; onDescribed: (key: string) => void }): FastifyPluginAsync =>
  async (http) => {
    const { storage } = deps;

    http.get(
      '/api/v1/series/*',
      {
        config: { access: 'read' },
        schema: {
          summary: 'A series: GET /api/v1/series/{key} (its catalog entry) or /api/v1/series/{key}/latest',
          description:
            'A key ending in `/latest` is read as the latest value of the series before it. Unknown series: 404.',
          tags: ['readings'],
          response: { 200: { anyOf: [latestSchema, seriesSchema] } },
        },
      },
      async (request) => {
        const rest = (request.params as { '*': string })['*']; // already percent-decoded by the router
        if (rest.endsWith('/latest')) return latest(storage, rest.slice(0, -'/latest'.length));
        const [s] = await storage.series([rest]);
        if (!s) throw new NotFound(`series "${rest.slice(0, 200)}" does not exist`, { field: 'key' });
        return catalogEntry(s);
      },
    );

    http.put<{ Body: SeriesBody }>(
      '/api/v1/series/*',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Describe a series: PUT /api/v1/series/{key}',
          description: [
            'Sets what the catalog says of a series, creating it (201) when it does not exist (else 200).',
            'Fields left out stay as they are; null clears one (`kind` cannot be cleared).',
            `A counter or interval series holds energy: its unit must be one of ${ENERGY_UNITS}.`,
          ].join(' '),
          tags: ['readings'],
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              unit: { type: ['string', 'null'], description: `One of ${KNOWN_UNITS.join(', ')}` },
              kind: { type: 'string', description: SERIES_KINDS.join(', ') },
              description: { type: ['string', 'null'], description: `In words, at most ${MAX_DESCRIPTION} characters` },
              interval_s: {
                type: ['number', 'null'],
                description: `Seconds each reading covers, 1–${MAX_INTERVAL_S} (interval series: 1800 for half-hourly)`,
              },
            },
          },
          response: { 200: seriesSchema, 201: seriesSchema },
        },
      },
      async (request, reply) => {
        const key = (request.params as { '*': string })['*'];
        if (!SERIES_KEY_PATTERN.test(key))
          throw new InvalidInput(
            'invalid_key',
            `key "${key.slice(0, 200)}" is not a series key: letters, digits and _ . : / -, starting with a letter or digit, at most 200`,
            { field: 'key' },
          );
        const [existing] = await storage.series([key]);
        await storage.describe([described(key, request.body ?? {}, existing)]);
        deps.onDescribed(key);
        const [entry] = await storage.series([key]);
        reply.code(existing ? 200 : 201);
        return catalogEntry(entry);
      },
    );
  };

async function latest(storage: ReadingsStorage, key: string) {
  const [s] = await storage.series([key]);
  if (!s || !Number.isFinite(s.lastTs))
    throw new NotFound(`series "${key.slice(0, 200)}" has no readings`, { field: 'key' });
  return { series: s.key, time: formatTime(s.lastTs), value: s.lastValue };
}

/** The body merged with what the catalog says now, or a 400 naming the field that is wrong. */
function described(key: string, body: SeriesBody, existing: SeriesEntry | undefined): SeriesDescription {
  const { unit, kind, description, interval_s: intervalS } = body;
  if (typeof unit === 'string' && !isKnownUnit(unit))
    throw new InvalidInput(
      'unknown_unit',
      `unit "${unit.slice(0, 50)}" is not known: use one of ${KNOWN_UNITS.join(', ')}`,
      {
        field: 'unit',
      },
    );
  if (kind !== undefined && !(SERIES_KINDS as readonly string[]).includes(kind))
    throw new InvalidInput(
      'unknown_kind',
      `kind must be one of ${SERIES_KINDS.join(', ')} (got "${kind.slice(0, 50)}")`,
      {
        field: 'kind',
      },
    );
  if (typeof description === 'string' && description.length > MAX_DESCRIPTION)
    throw new InvalidInput('invalid_description', `description is longer than ${MAX_DESCRIPTION} characters`, {
      field: 'description',
    });
  if (typeof intervalS === 'number' && !(Number.isInteger(intervalS) && intervalS >= 1 && intervalS <= MAX_INTERVAL_S))
    throw new InvalidInput(
      'invalid_interval',
      `interval_s must be a whole number of seconds from 1 to ${MAX_INTERVAL_S} (got ${intervalS})`,
      { field: 'interval_s' },
    );
  const merged: SeriesDescription = {
    key,
    unit: unit === undefined ? (existing?.unit ?? null) : unit,
    kind: (kind ?? existing?.kind ?? 'gauge') as SeriesKind,
    intervalS,
    description,
  };
  // only when the body touches them: a description alone never fails on what the series already was
  if ((unit !== undefined || kind !== undefined) && merged.kind !== 'gauge' && !isEnergyUnit(merged.unit)) {
    const field = unit !== undefined ? 'unit' : 'kind';
    const has = merged.unit === null ? 'no unit' : `unit ${merged.unit}`;
    throw new InvalidInput(
      'not_energy',
      `a ${merged.kind} series holds energy: its unit must be an energy unit (${ENERGY_UNITS}), and this one would have ${has}`,
      { field },
    );
  }
  return merged;
}
