import cors from '@fastify/cors';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifySchema } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { keysFromAuthorization } from '../auth/api-keys.js';
import { coreSettings } from '../config.js';
import { Overloaded, RateLimited, RequestTimeout, UpstreamFailed, WattlineError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { createValidatorCompiler } from './validation.js';
import { withBodyDeadline } from './body-deadline.js';
import { type DashboardPage, registerRootPage } from './root.js';
import { clientId, type RateLimiter } from '../rate-limit.js';

/**
 * The HTTP server every module registers on: request ids, the OpenAPI document, and the one place
 * that turns errors into replies (`{"error","code","field"}`; 5xx never shows a driver's message).
 * With a `limiter`, each client (API key, else address) is held to its rate: over it, 429 with `Retry-After`.
 * `timeouts` (the `http.*` settings) bound slow clients: headers, bodies (`body-deadline.ts`) and idle
 * keep-alive connections; a reply sent before its request body was read closes the connection.
 */
export async function createHttpServer(options: {
  log: Logger;
  metrics: Metrics;
  version: string;
  limiter?: RateLimiter;
  /** Keys the limiter may count a request against (any other key counts against the address). */
  isKnownKey?: (key: string) => boolean;
  /** Default: the `http.*` settings' defaults. */
  timeouts?: HttpTimeouts;
  /** When this process serves the dashboard, `GET /` shows it to browsers. */
  dashboard?: DashboardPage;
}): Promise<FastifyInstance> {
  const timeouts = options.timeouts ?? coreSettings.shape.http.parse({});
  const http = Fastify({
    loggerInstance: options.log,
    // one debug line per request (onResponse below) instead of two info lines: ingest is high-rate
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // NDJSON bodies are streamed, not buffered; this bounds the JSON bodies Fastify parses itself
    bodyLimit: timeouts.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true },
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // Node checks header (and request) timeouts on this interval: a tenth of the timeout keeps it close
    http: { connectionsCheckingInterval: Math.max(100, Math.floor(timeouts.headersTimeoutMs / 10)) },
    clientErrorHandler: clientErrorReplier(options.log, options.metrics),
    // errors raised before routing (a malformed URL, say) get the same reply shape as the rest
    frameworkErrors: (error, request, reply) => {
      const r = reply as unknown as {
        header(k: string, v: string): unknown;
        code(c: number): { send(body: unknown): unknown };
      };
      r.header('x-request-id', request.id);
      r.code(error.statusCode ?? 400).send({
        error: error.message,
        code: (error.code ?? 'bad_request').toLowerCase().replace(/^fst_err_/, ''),
      });
    },
  }) as unknown as FastifyInstance;
  http.server.headersTimeout = timeouts.headersTimeoutMs;
  // Node arms a socket's timeout only while it waits for the next request on a kept-alive
  // connection (http.keepAliveTimeoutMs), then closes it: that is an idle close
  http.server.on('connection', (socket: Socket) =>
    socket.once('timeout', () => options.metrics.httpConnectionsClosed.inc({ reason: 'idle' })),
  );
  // whole-request time is left unbounded (Fastify's default): a large upload at a good rate may take
  // long; slow bodies are cut by the deadline below instead
  http.server.requestTimeout = 0;

  http.setValidatorCompiler(createValidatorCompiler());
  // closed unless origins are listed: without CORS headers a browser lets no other site's page read
  // an answer, and a preflight (OPTIONS) finds no route
  if (timeouts.corsOrigins.length)
    await http.register(cors, {
      origin: [...timeouts.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'content-encoding', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after'],
      maxAge: 600,
    });
  await http.register(swagger, {
    openapi: {
      info: {
        title: 'Wattline',
        version: options.version,
        description: API_DESCRIPTION,
      },
      components: {
        securitySchemes: {
          basic: {
            type: 'http',
            scheme: 'basic',
            description: 'The API key as the username, the password empty (cloud-lada compatible)',
          },
          bearer: { type: 'http', scheme: 'bearer', description: 'The API key: `Authorization: Bearer <key>`' },
        },
      },
      security: [{ basic: [] }, { bearer: [] }],
    },
    transform: ({ schema, url }) => ({ schema: withAccessStated(schema as DocumentedSchema) as FastifySchema, url }),
  });
  await http.register(swaggerUi, {
    routePrefix: '/docs',
    theme: { title: 'Wattline API' },
    logo: { type: 'image/svg+xml', content: Buffer.from(LOGO_SVG), href: '/' },
    uiConfig: { docExpansion: 'list', persistAuthorization: true },
  });
  registerRootPage(http, { version: options.version, dashboard: options.dashboard });

  const limiter = options.limiter;
  if (limiter) {
    // probes and scrapers often share an address with clients: a busy client must not make the server look down
    const unlimited = new Set(['/health', '/ready', '/metrics']);
    const isKnownKey = options.isKnownKey ?? (() => false);
    http.addHook('onRequest', async (request) => {
      if (unlimited.has(request.routeOptions.url ?? '')) return;
      // every known key the header carries: InfluxDB agents all named `telegraf` with keys of their
      // own are apart; made-up keys count against the address, so inventing keys buys no budget
      const keys = keysFromAuthorization(request.headers.authorization).filter(isKnownKey);
      // reads and writes have budgets of their own: a client busy ingesting can still query
      const kind = request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
      await limiter.consume(`${clientId(keys.join(':') || undefined, request.ip)}:${kind}`);
    });
  }
  // runs after the access check (onRequest): an unauthorised body is refused before it is read
  http.addHook('preParsing', async (request, _reply, payload) =>
    hasBody(request.headers) ? withBodyDeadline(payload, timeouts) : payload,
  );
  http.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // answered before its body was read (refused, timed out, overloaded): the rest of the body is not
    // read to find the next request, the connection ends with this reply
    if (!request.raw.complete) reply.header('connection', 'close');
  });
  http.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    request.log.debug(
      { method: request.method, url: redactedUrl(request.url), status: reply.statusCode, ms: reply.elapsedTime },
      'request done',
    );
  });

  http.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route for ${request.method} ${request.url.split('?')[0]}`, code: 'not_found' });
  });

  http.setErrorHandler((error: FastifyError | WattlineError | Error, request, reply) => {
    if (
      error instanceof WattlineError &&
      (error.status < 500 || error instanceof Overloaded || error instanceof UpstreamFailed)
    ) {
      if (error instanceof RequestTimeout) request.log.debug({ err: error }, 'request body timed out');
      if (error instanceof Overloaded || error instanceof RateLimited)
        reply.header('retry-after', String(error.retryAfterS));
      return reply
        .code(error.status)
        .send({ error: error.message, code: error.code, ...(error.field ? { field: error.field } : {}) });
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const first = fe.validation[0];
      const params = first?.params as { missingProperty?: string; additionalProperty?: string } | undefined;
      const at = first?.instancePath?.replace(/^\//, '').replaceAll('/', '.') ?? '';
      if (params?.additionalProperty !== undefined) {
        const field = at ? `${at}.${params.additionalProperty}` : params.additionalProperty;
        return reply.code(400).send({
          error: `${fe.validationContext ?? 'body'} has an unknown field "${field.slice(0, 100)}"`,
          code: 'unknown_field',
          field,
        });
      }
      const field = at || params?.missingProperty || undefined;
      return reply.code(400).send({ error: fe.message, code: 'invalid_request', ...(field ? { field } : {}) });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code =
        fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'unsupported_media_type'
          : fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? 'body_too_large' // as /ingest says it
            : (fe.code ?? 'bad_request').toLowerCase();
      return reply.code(fe.statusCode).send({ error: fe.message, code });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal error', requestId: request.id });
  });
  return http;
}

/**
 * A URL as logged: keys clients put in the query blanked (Emoncms's `?apikey=`, the WebSocket's
 * `?key=`, InfluxDB v1's `?u=` and `?p=`).
 */
const redactedUrl = (url: string) => url.replace(/([?&](?:(?:api)?key|u|p|password|token)=)[^&]*/gi, '$1[redacted]');

const API_DESCRIPTION = [
  'Energy telemetry: readings in, stored, queried.',
  '',
  'Keys have a scope: `read`, `write` (includes read) or `admin` (includes both). Send a key as',
  '`Authorization: Bearer <key>`, or as the username of HTTP basic auth with an empty password.',
  'Each operation says the key it needs ("Access: …"). Reads need no key unless the server runs',
  'with `WATTLINE_REQUIRE_READ_KEY`.',
].join('\n');

// the top bar of /docs shows this instead of the Swagger logo
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40"><text x="0" y="29" font-family="system-ui,sans-serif" font-size="26" font-weight="700" fill="#fff">Wattline</text></svg>';

type DocumentedSchema = Record<string, unknown> & { 'x-access'?: string; description?: string; security?: unknown[] };

const ACCESS_WORDS: Record<string, string> = {
  public: 'Access: public, no key.',
  read: 'Access: read key (any key: read, write or admin).',
  write: 'Access: write key (write or admin).',
  admin: 'Access: admin key.',
};

/**
 * The access an operation declares (`x-access`, set by auth/access.ts) in words at the end of its
 * description, where /docs shows it. Its `security` is already right: `[]` when open (access.ts),
 * else the document's (either scheme).
 */
function withAccessStated(schema: DocumentedSchema): DocumentedSchema {
  const access = schema?.['x-access'];
  if (!access) return schema;
  const open = Array.isArray(schema.security) && schema.security.length === 0;
  const words =
    ACCESS_WORDS[access] + (access === 'read' && open ? ' Reads are open on this server: no key needed.' : '');
  return { ...schema, description: schema.description ? `${schema.description}\n\n${words}` : words };
}

/** How long slow clients may take, and which web origins may call from a browser (core's `http.*` settings). */
export interface HttpTimeouts {
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  bodyMinBytesPerSecond: number;
  keepAliveTimeoutMs: number;
  corsOrigins: readonly string[];
  maxBodyBytes: number;
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] ?? '0') !== '0';
}

/**
 * Errors Node raises before a request exists (headers too slow or too large, a malformed request):
 * the usual `{"error","code"}` reply, written on the socket, which is then closed, and counted in
 * `http_requests_total` under route `unmatched` (no request exists, so the onResponse hook that
 * counts answers never runs).
 */
const clientErrorReplier = (log: Logger, metrics: Metrics) => (err: NodeJS.ErrnoException, socket: Socket) => {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'the request headers arrived too slowly']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'the request headers are too large']
        : [400, 'bad_request', 'the request is not valid HTTP/1.1'];
  log.debug({ err }, 'client error');
  metrics.httpRequests.inc({ method: '', route: 'unmatched', status: String(status) });
  if (socket.writable) {
    const body = JSON.stringify({ error: message, code });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
};
