import type { FastifyInstance } from 'fastify';
import type { Bus } from '../bus/index.js';
import type { Connections } from '../connections.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/index.js';

/**
 * `/health` (the process answers), `/ready` (store and bus usable; outside services modules use listed), `/metrics`, `/openapi.json`:
 * public, whatever `requireReadKey` says, so probes, scrapers and API clients need no key.
 */
export function registerOperations(
  http: FastifyInstance,
  deps: { store: Store; bus: Bus; metrics: Metrics; connections: Connections },
) {
  const config = { access: 'public' } as const;
  http.get('/health', { config, schema: { summary: 'Liveness', tags: ['operations'] } }, async () => ({
    status: 'ok',
  }));
  http.get(
    '/ready',
    { config, schema: { summary: 'Readiness: store and bus usable', tags: ['operations'] } },
    async (_request, reply) => {
      const [store, bus] = await Promise.all([deps.store.ready(), deps.bus.ready()]);
      // the outside services modules use are reported, but only the store and the bus decide
      const connections = deps.connections.snapshot();
      reply.code(store && bus ? 200 : 503);
      return {
        status: store && bus ? 'ready' : 'not ready',
        store: store ? 'ok' : 'unavailable',
        bus: bus ? 'ok' : 'unavailable',
        ...(Object.keys(connections).length ? { connections } : {}),
      };
    },
  );
  http.get(
    '/metrics',
    { config, schema: { summary: 'Prometheus metrics', tags: ['operations'] } },
    async (_request, reply) => {
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
  http.get('/openapi.json', { config, schema: { summary: 'This OpenAPI document', tags: ['operations'] } }, async () =>
    http.swagger(),
  );
}
