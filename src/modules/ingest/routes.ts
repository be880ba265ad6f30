import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Bus } from '../../core/bus/index.js';
import { InvalidInput, Overloaded } from '../../core/errors.js';
import { READINGS_TOPIC } from '../../core/readings.js';
import type { IngestMetrics } from './metrics.js';
import type { ParsePool } from './parse-pool.js';

export const NDJSON_TYPES = ['application/x-ndjson', 'application/stream+json'];

export interface IngestDeps {
  bus: Bus;
  metrics: IngestMetrics;
  /** The pool the ingest role started. */
  parsePool: () => ParsePool;
}

/** `POST /ingest`: NDJSON readings, cloud-lada compatible, answered once every good line is durable. */
export const ingestRoutes =
  (deps: IngestDeps): FastifyPluginAsync =>
  async (http) => {
    const { metrics } = deps;
    /**
     * Parses the body as it arrives and publishes its batches. A full queue (BusFull, an
     * `Overloaded`) refuses before the body is read; one that fills up meanwhile refuses the batch
     * that did not fit, and the request answers 503 with no count: the client sends the body again,
     * and a reading stored twice is stored once.
     */
    async function parseAndPublish(request: FastifyRequest) {
      await deps.bus.checkRoom(READINGS_TOPIC);
      let body = request.body as Readable;
      if (/gzip/i.test(String(request.headers['content-encoding'] ?? ''))) body = body.pipe(createGunzip());
      return deps
        .parsePool()
        .parse(body, (batch) => deps.bus.publish(READINGS_TOPIC, batch))
        .catch((err: NodeJS.ErrnoException) => {
          // zlib's errors: the client's body, not our fault (lines before the damage may be stored)
          if (err.code?.startsWith('Z_'))
            throw new InvalidInput('invalid_body', `the gzip body is damaged: ${err.message}`);
          throw err;
        });
    }

    // hand the body through as a stream: a 200 MB upload is parsed as it arrives, never buffered
    http.addContentTypeParser(NDJSON_TYPES, (_request, payload, done) => done(null, payload));

    http.post(
      '/ingest',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Send readings as NDJSON',
          description:
            'One JSON object per line: {"sensor","value","timestamp"} or {"series","value","ts"}; ts is ISO 8601 or epoch ms. ' +
            'Content-Type application/x-ndjson or application/stream+json; Content-Encoding gzip accepted. ' +
            'Good lines are stored even when others are bad (400 lists the bad ones by line number).',
          tags: ['ingest'],
          response: {
            200: { type: 'object', properties: { accepted: { type: 'integer' } } },
            400: {
              type: 'object',
              properties: {
                accepted: { type: 'integer' },
                invalid: {
                  type: 'array',
                  items: { type: 'object', properties: { line: { type: 'integer' }, error: { type: 'string' } } },
                },
                invalidCount: { type: 'integer' },
                error: { type: 'string' },
                code: { type: 'string' },
                field: { type: 'string' },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const parser = await parseAndPublish(request).catch((err: unknown) => {
          if (err instanceof Overloaded) metrics.requests.inc({ format: 'ndjson', status: '503' });
          throw err;
        });
        metrics.rows.inc({ format: 'ndjson' }, parser.accepted);
        metrics.rowsInvalid.inc({ format: 'ndjson' }, parser.invalidCount);
        if (parser.invalidCount > 0) {
          metrics.requests.inc({ format: 'ndjson', status: '400' });
          reply.code(400);
          return {
            accepted: parser.accepted,
            invalid: parser.invalid,
            ...(parser.invalidCount > parser.invalid.length ? { invalidCount: parser.invalidCount } : {}),
          };
        }
        metrics.requests.inc({ format: 'ndjson', status: '200' });
        return { accepted: parser.accepted };
      },
    );
  };
