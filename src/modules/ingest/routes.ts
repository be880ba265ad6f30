import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Bus } from '../../core/bus/index.js';
import { InvalidInput, Overloaded, RequestTimeout, WattlineError } from '../../core/errors.js';
import { READINGS_TOPIC } from '../../core/readings.js';
import { parsePrecision } from '../../core/time/timestamps.js';
import type { IngestMetrics } from './metrics.js';
import type { ParsePool } from './parse-pool.js';
import type { BodySettings } from './parse-protocol.js';

export const NDJSON_TYPES = ['application/x-ndjson', 'application/stream+json'];
const ACCEPTED_TYPES =
  'application/x-ndjson, application/stream+json, text/plain (NDJSON) or application/json (one object, an array of objects, or NDJSON)';

/** A body's format by its `Content-Type` (parameters aside; a charset must be UTF-8); anything else is a 415. */
export function formatFor(header: string | undefined): 'ndjson' | 'json' {
  const [type, ...parameters] = (header ?? '').split(';');
  const mediaType = type.trim().toLowerCase();
  const refuse = (message: string) =>
    new WattlineError('unsupported_media_type', message, { status: 415, field: 'content-type' });
  const format =
    mediaType === 'application/json'
      ? 'json'
      : mediaType === 'text/plain' || NDJSON_TYPES.includes(mediaType)
        ? 'ndjson'
        : undefined;
  if (!format)
    throw refuse(
      `Content-Type must be ${ACCEPTED_TYPES} (${mediaType ? `got "${mediaType.slice(0, 100)}"` : 'none was sent'})`,
    );
  for (const parameter of parameters) {
    const [name, value = ''] = parameter.split('=').map((part) => part.trim().toLowerCase());
    const charset = value.replace(/^"(.*)"$/, '$1');
    if (name === 'charset' && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii')
      throw refuse(`the body must be UTF-8 (got charset=${charset.slice(0, 40)})`);
  }
  return format;
}

/** The `Content-Encoding`s a body may have, and how each is undone. */
const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The decoders for a `Content-Encoding` header, in the order to apply them: each token matched
 * exactly (case-insensitive), `identity` ignored, several undone last first (RFC 9110 §8.4);
 * anything else is a 415.
 */
export function decodersFor(header: string | undefined): { name: string; create: () => Transform }[] {
  const names = (header ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '' && token !== 'identity');
  return names.reverse().map((name) => {
    const create = DECODERS[name];
    if (!create)
      throw new WattlineError(
        'unsupported_encoding',
        `Content-Encoding must be gzip, deflate, br or identity (got "${name}")`,
        { status: 415, field: 'content-encoding' },
      );
    return { name, create };
  });
}

/**
 * The body, decoded and capped at `maxDecodedBytes` when it is encoded. A body that cannot be read
 * to its end (damaged, over the cap, too slow) ends early with the reason in `stop`: the lines
 * before it are parsed and stored, and the reply says how many.
 */
export function readBody(raw: Readable, header: string | undefined, maxDecodedBytes: number) {
  const decoders = decodersFor(header);
  const state: { stop?: WattlineError } = {};
  async function* chunks(): AsyncGenerator<Buffer> {
    const stream = decoders.length
      ? (pipeline([raw, ...decoders.map((d) => d.create())], () => undefined) as unknown as Readable)
      : raw;
    let bytes = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (decoders.length && bytes > maxDecodedBytes) {
          state.stop = new WattlineError(
            'body_too_large',
            `the decoded body is larger than ${maxDecodedBytes} bytes (ingest.maxDecompressedBytes); lines before that point were stored`,
            { status: 413 },
          );
          return;
        }
        yield chunk;
      }
    } catch (err) {
      if (err instanceof RequestTimeout) {
        state.stop = err;
        return;
      }
      // zlib's errors and brotli's format errors (`ERR__ERROR_FORMAT_…`; found by fuzzing: they were
      // a 500): the client's body, not our fault (lines before the damage are stored)
      const code = (err as NodeJS.ErrnoException).code;
      if (code?.startsWith('Z_') || code?.startsWith('ERR__ERROR_FORMAT_')) {
        state.stop = new InvalidInput(
          'invalid_body',
          `the ${decoders.map((d) => d.name).join(', ')} body is damaged: ${(err as Error).message}`,
        );
        return;
      }
      throw err;
    }
  }
  return { chunks: chunks(), stopped: () => state.stop };
}

/** A reply naming what was stored: bad lines (400), or a body that ended early (400, 408, 413). */
const partialReply = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    invalid: {
      type: 'array',
      items: {
        type: 'object',
        properties: { line: { type: 'integer' }, item: { type: 'integer' }, error: { type: 'string' } },
      },
    },
    invalidCount: { type: 'integer' },
    error: { type: 'string' },
    code: { type: 'string' },
    field: { type: 'string' },
  },
} as const;

export interface IngestDeps {
  bus: Bus;
  /** Most bytes an encoded body may decode to (`ingest.maxDecompressedBytes`). */
  maxDecompressedBytes: number;
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
     * `Overloaded`) refuses before the body is read; one that fills up meanwhile stops reading the
     * body at its next chunk (the client's bytes wait in the socket) or refuses the batch that did
     * not fit, and the request answers 503 with no count: the client sends the body again, and a
     * reading stored twice is stored once.
     */
    async function parseAndPublish(request: FastifyRequest, bodySettings: BodySettings) {
      const body = readBody(
        request.body as Readable,
        request.headers['content-encoding'] as string | undefined,
        deps.maxDecompressedBytes,
      );
      await deps.bus.checkRoom(READINGS_TOPIC);
      const result = await deps.parsePool().parse(
        body.chunks,
        (batch) => deps.bus.publish(READINGS_TOPIC, batch),
        () => deps.bus.checkRoom(READINGS_TOPIC),
        bodySettings,
      );
      return { ...result, stopped: body.stopped() };
    }

    // hand every body through as a stream (a 200 MB upload is parsed as it arrives, never buffered)
    // and let the route judge its Content-Type: Fastify's JSON parser would buffer the body, and
    // its 415 for a type without a parser would not say which types are accepted
    http.removeAllContentTypeParsers();
    http.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    // before Fastify's own check, which answers a malformed Content-Type with its 415 (after the
    // access check: hooks of this scope run after core's)
    http.addHook('onRequest', async (request) => {
      formatFor(request.headers['content-type']);
    });

    http.post(
      '/ingest',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Send readings as NDJSON or JSON',
          description:
            'One JSON object per line: {"sensor","value","timestamp"} or {"series","value","ts"}; ts is ISO 8601 or an epoch number ' +
            'in `precision` (s, ms, us, ns) or, without it, by its digits (10–11 s, 13 ms, 16 µs, 19 ns; 0 as is). ' +
            'A ts before ingest.minTime or more than ingest.maxFutureMs ahead is refused. ' +
            'Content-Type application/x-ndjson, application/stream+json or text/plain (NDJSON), or application/json ' +
            '(one object, an array of objects, or NDJSON; others: 415); Content-Encoding gzip, deflate, br or identity (others: 415). ' +
            'Good lines are stored even when others are bad (400 lists the bad ones by line number, or by item number in a JSON array). ' +
            'A body that ends early — damaged encoding (400), decoding past ingest.maxDecompressedBytes (413), ' +
            'arriving too slowly (408) — answers {error, code, accepted} with the lines stored before that point.',
          tags: ['ingest'],
          querystring: {
            type: 'object',
            properties: {
              precision: {
                type: 'string',
                description: 'Unit of epoch numbers: s, ms, us or ns; without it, their number of digits says.',
              },
            },
          },
          response: {
            200: { type: 'object', properties: { accepted: { type: 'integer' } } },
            400: partialReply,
            408: partialReply,
            413: partialReply,
          },
        },
      },
      async (request, reply) => {
        const format = formatFor(request.headers['content-type']);
        const precision = parsePrecision((request.query as { precision?: string }).precision);
        const parser = await parseAndPublish(request, { format, precision }).catch((err: unknown) => {
          if (err instanceof Overloaded) metrics.requests.inc({ format, status: '503' });
          throw err;
        });
        metrics.rows.inc({ format }, parser.accepted);
        metrics.rowsInvalid.inc({ format }, parser.invalidCount);
        const invalid = {
          invalid: parser.invalid,
          ...(parser.invalidCount > parser.invalid.length ? { invalidCount: parser.invalidCount } : {}),
        };
        if (parser.stopped) {
          const { status, message, code } = parser.stopped;
          metrics.requests.inc({ format, status: String(status) });
          reply.code(status as 400 | 408 | 413);
          return { error: message, code, accepted: parser.accepted, ...(parser.invalidCount > 0 ? invalid : {}) };
        }
        if (parser.invalidCount > 0) {
          metrics.requests.inc({ format, status: '400' });
          reply.code(400);
          return { accepted: parser.accepted, ...invalid };
        }
        metrics.requests.inc({ format, status: '200' });
        return { accepted: parser.accepted };
      },
    );
  };
