import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Bus } from '../../core/bus/index.js';
import { InvalidInput, Overloaded } from '../../core/errors.js';
import { READINGS_TOPIC } from '../../core/readings.js';
import type { IngestMetrics } from './metrics.js';
import type { ParsePool } from './parse-pool.js';
import type { BodySettings } from './parse-protocol.js';
import { readBody } from './routes.js';

/** InfluxDB's precisions: v1 names (`n`, `u`) and v2 names (`ns`, `us`), as the parser's. */
const PRECISIONS: Record<string, NonNullable<BodySettings['precision']>> = {
  n: 'ns',
  ns: 'ns',
  u: 'us',
  us: 'us',
  ms: 'ms',
  s: 's',
  m: 'm',
  h: 'h',
};
/** Bad lines named in a partial-write message; the rest are counted in `dropped`. */
const LINES_NAMED = 10;

/** InfluxDB v1 clients (node-influx, Node-RED) may send the key as `?p=` (or `?u=` alone) instead of a header. */
function v1QueryCredentials(request: FastifyRequest): string | undefined {
  const { u, p } = request.query as { u?: string; p?: string };
  const key = p || u;
  return key ? `Token ${key}` : undefined;
}

/** InfluxDB v2's error codes by HTTP status. */
const V2_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  408: 'request timeout',
  413: 'request too large',
  415: 'unsupported media type',
  429: 'too many requests',
  503: 'unavailable',
};

export interface InfluxDeps {
  bus: Bus;
  maxDecompressedBytes: number;
  metrics: IngestMetrics;
  parsePool: () => ParsePool;
  /** Tag keys whose values name a series (`ingest.lineProtocolSeriesTags`). */
  seriesTags: readonly string[];
}

/**
 * InfluxDB's write endpoints, so collectors that speak line protocol (Telegraf, Home Assistant's
 * InfluxDB integration, Node-RED, the official clients) write to Wattline unchanged:
 * `POST /write` (v1: `db`, `rp` ignored; `precision` n|ns|u|ms|s|m|h; the key as `?p=` (or `?u=`),
 * as the basic-auth password or user, or `Authorization: Token <key>`) and `POST /api/v2/write`
 * (`org` and `bucket` ignored; `precision` ns|us|ms|s; `Authorization: Token <key>`). Bodies stream
 * through the same parse workers as `/ingest` (gzip too); 204 when every line was stored, 400 with
 * the bad lines named and the good ones stored, errors worded as InfluxDB words them (v1
 * `{"error"}`, v2 `{"code","message"}`).
 */
export const influxRoutes =
  (deps: InfluxDeps): FastifyPluginAsync =>
  async (http) => {
    // every body as a stream, whatever its Content-Type (clients send text/plain, or nothing)
    http.removeAllContentTypeParsers();
    http.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    // errors (401 and 403 from the key check included) in InfluxDB's shape for the route's version
    http.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
      let body: { error?: string; message?: string; requestId?: string };
      try {
        body = JSON.parse(payload);
      } catch {
        return payload;
      }
      const reason = body.error ?? body.message ?? 'error';
      // an internal error keeps its request id, to find it in the log
      const message = body.requestId ? `${reason} (request ${body.requestId})` : reason;
      return JSON.stringify(
        request.url.startsWith('/api/v2/')
          ? { code: V2_CODES[reply.statusCode] ?? 'internal error', message }
          : { error: message },
      );
    });

    async function write(request: FastifyRequest, reply: FastifyReply, precisionNames: readonly string[]) {
      const query = request.query as { precision?: string };
      const given = query.precision || 'ns';
      const precision = PRECISIONS[given];
      if (!precision || !precisionNames.includes(given))
        throw new InvalidInput(
          'invalid_precision',
          `precision must be one of ${precisionNames.join(', ')} (got ${JSON.stringify(query.precision).slice(0, 20)})`,
          { field: 'precision' },
        );
      const body = readBody(
        // no body and no Content-Type: Fastify parses nothing (found by fuzzing: undefined here was a 500)
        (request.body as Readable | undefined) ?? Readable.from([]),
        request.headers['content-encoding'] as string | undefined,
        deps.maxDecompressedBytes,
      );
      const format = 'line-protocol';
      await deps.bus.checkRoom(READINGS_TOPIC);
      const parsed = await deps
        .parsePool()
        .parse(
          body.chunks,
          (batch) => deps.bus.publish(READINGS_TOPIC, batch),
          () => deps.bus.checkRoom(READINGS_TOPIC),
          { format, precision, now: Date.now(), seriesTags: deps.seriesTags },
        )
        .catch((err: unknown) => {
          if (err instanceof Overloaded) deps.metrics.requests.inc({ format, status: '503' });
          throw err;
        });
      deps.metrics.rows.inc({ format }, parsed.accepted);
      deps.metrics.rowsInvalid.inc({ format }, parsed.invalidCount);
      const stopped = body.stopped();
      if (stopped) {
        deps.metrics.requests.inc({ format, status: String(stopped.status) });
        throw stopped;
      }
      if (parsed.invalidCount > 0) {
        deps.metrics.requests.inc({ format, status: '400' });
        const named = parsed.invalid
          .slice(0, LINES_NAMED)
          .map((e) => `${'line' in e ? `line ${e.line}` : `item ${e.item}`}: ${e.error}`);
        // InfluxDB: `partial write: <reason> dropped=N`; the readings of good lines are stored
        throw new InvalidInput('partial_write', `partial write: ${named.join('; ')} dropped=${parsed.invalidCount}`);
      }
      deps.metrics.requests.inc({ format, status: '204' });
      return reply.code(204).send();
    }

    // what collectors ask before they write: InfluxDB's health check, and (Telegraf's v1 output,
    // Home Assistant's) creating or listing the database, which Wattline does not have
    http.route({
      method: ['GET', 'HEAD'],
      url: '/ping',
      config: { access: 'public' },
      schema: { summary: 'InfluxDB-compatible health check: 204', tags: ['ingest'] },
      handler: async (_request, reply) => reply.code(204).header('x-influxdb-version', '1.8.10 (Wattline)').send(),
    });
    http.route({
      method: ['GET', 'POST'],
      url: '/query',
      config: { access: 'write', credentials: v1QueryCredentials },
      schema: {
        summary: 'InfluxQL, only as far as collectors need it before writing',
        description:
          '`CREATE DATABASE <name>` succeeds and does nothing (databases are not kept apart); `SHOW DATABASES` lists one. Any other statement is a 400: query readings with `GET /api/v1/query`.',
        tags: ['ingest'],
        querystring: { type: 'object', properties: { q: { type: 'string' }, db: { type: 'string' } } },
      },
      handler: async (request) => {
        const q = ((request.query as { q?: string }).q ?? '').trim();
        if (/^create\s+database\s+\S+/i.test(q)) return { results: [{ statement_id: 0 }] };
        if (/^show\s+databases\s*;?$/i.test(q))
          return {
            results: [{ statement_id: 0, series: [{ name: 'databases', columns: ['name'], values: [['wattline']] }] }],
          };
        throw new InvalidInput(
          'unsupported_query',
          `Wattline answers InfluxQL only for CREATE DATABASE and SHOW DATABASES (got "${q.slice(0, 60)}"); query readings with GET /api/v1/query`,
          { field: 'q' },
        );
      },
    });

    http.post(
      '/write',
      {
        config: {
          access: 'write',
          credentials: v1QueryCredentials,
        },
        schema: {
          summary: 'Write line protocol (InfluxDB 1.x API)',
          description:
            'Each line `measurement[,tag=value…] field=value[,…] [timestamp]` becomes one reading per numeric or boolean field, series `<measurement>/<field>` ' +
            '(`ingest.lineProtocolSeriesTags` adds tag values between); tags are kept in the catalog. 204 when every line was stored; ' +
            '400 `{"error":"partial write: … dropped=N"}` naming the bad lines, the good ones stored.',
          tags: ['ingest'],
          querystring: {
            type: 'object',
            properties: {
              db: { type: 'string', description: 'Accepted and ignored' },
              rp: { type: 'string', description: 'Accepted and ignored' },
              precision: { type: 'string', description: 'n, ns, u, ms, s, m or h (default ns)' },
              u: { type: 'string', description: 'User (or the key, without p)' },
              p: { type: 'string', description: 'The key' },
            },
          },
        },
      },
      (request, reply) => write(request, reply, ['n', 'ns', 'u', 'ms', 's', 'm', 'h']),
    );

    http.post(
      '/api/v2/write',
      {
        config: { access: 'write' },
        schema: {
          summary: 'Write line protocol (InfluxDB 2.x API)',
          description:
            'As `POST /write`, with `Authorization: Token <key>`; 400 answers `{"code":"invalid","message":"partial write: … dropped=N"}`.',
          tags: ['ingest'],
          querystring: {
            type: 'object',
            properties: {
              org: { type: 'string', description: 'Accepted and ignored' },
              orgID: { type: 'string', description: 'Accepted and ignored' },
              bucket: { type: 'string', description: 'Accepted and ignored' },
              precision: { type: 'string', description: 'ns, us, ms or s (default ns)' },
            },
          },
        },
      },
      (request, reply) => write(request, reply, ['ns', 'us', 'ms', 's']),
    );
  };
