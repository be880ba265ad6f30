import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { keyFromAuthorization } from '../auth/api-keys.js';
import { Overloaded, RateLimited, UpstreamFailed, WattlineError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { createValidatorCompiler } from './validation.js';
import { clientId, type RateLimiter } from '../rate-limit.js';

/**
 * The HTTP server every module registers on: request ids, the OpenAPI document, and the one place
 * that turns errors into replies (`{"error","code","field"}`; 5xx never shows a driver's message).
 * With a `limiter`, each client (API key, else address) is held to its rate: over it, 429 with `Retry-After`.
 */
export async function createHttpServer(options: {
  log: Logger;
  metrics: Metrics;
  version: string;
  limiter?: RateLimiter;
}): Promise<FastifyInstance> {
  const http = Fastify({
    loggerInstance: options.log,
    // one debug line per request (onResponse below) instead of two info lines: ingest is high-rate
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // NDJSON bodies are streamed, not buffered; this bounds the JSON bodies Fastify parses itself
    bodyLimit: 10 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
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

  http.setValidatorCompiler(createValidatorCompiler());
  await http.register(swagger, {
    openapi: {
      info: {
        title: 'Wattline',
        version: options.version,
        description: 'Energy telemetry: readings in, stored, queried.',
      },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic', description: 'API key as the username (cloud-lada compatible)' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ basic: [] }, { bearer: [] }],
    },
  });
  await http.register(swaggerUi, { routePrefix: '/docs' });

  const limiter = options.limiter;
  if (limiter) {
    // probes and scrapers often share an address with clients: a busy client must not make the server look down
    const unlimited = new Set(['/health', '/ready', '/metrics']);
    http.addHook('onRequest', async (request) => {
      if (!unlimited.has(request.routeOptions.url ?? ''))
        await limiter.consume(clientId(keyFromAuthorization(request.headers.authorization), request.ip));
    });
  }
  http.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  http.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
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
          : (fe.code ?? 'bad_request').toLowerCase();
      return reply.code(fe.statusCode).send({ error: fe.message, code });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal error', requestId: request.id });
  });
  return http;
}
