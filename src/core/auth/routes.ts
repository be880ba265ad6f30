import type { FastifyInstance } from 'fastify';
import { defineModule } from '../module.js';
import { type ApiKeyScope, apiKeyScopes } from '../config.js';

const keyInfo = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: ['string', 'null'] },
    scope: { type: 'string', enum: [...apiKeyScopes] },
    created: { type: ['string', 'null'], format: 'date-time' },
    lastUsed: { type: ['string', 'null'], format: 'date-time', description: 'at most a minute stale' },
  },
} as const;

/**
 * Core's key routes, registered like a module's, all admin: `POST /api/v1/keys` makes a key,
 * `GET /api/v1/keys` lists them (never the key or its hash), `DELETE /api/v1/keys/{id}` revokes one;
 * behind `wattline keys create|ls|revoke`. Role `api`.
 */
export const keysModule = defineModule({
  name: 'keys',
  create: ({ keys }) => ({
    service: undefined,
    roles: {
      api: {
        routes: async (http: FastifyInstance) => {
          http.post<{ Body: { scope?: ApiKeyScope; name?: string } }>(
            '/api/v1/keys',
            {
              config: { access: 'admin' },
              schema: {
                summary: 'Create an API key',
                tags: ['keys'],
                body: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    scope: { type: 'string', enum: [...apiKeyScopes] },
                    name: { type: 'string', maxLength: 200 },
                  },
                },
                response: {
                  201: { type: 'object', properties: { key: { type: 'string' }, scope: { type: 'string' } } },
                },
              },
            },
            async (request, reply) => {
              const scope = request.body?.scope ?? 'write';
              const key = await keys.create(scope, request.body?.name);
              reply.code(201);
              return { key, scope };
            },
          );
          http.get(
            '/api/v1/keys',
            {
              config: { access: 'admin' },
              schema: {
                summary: 'List the API keys (ids, names, scopes; never the keys)',
                tags: ['keys'],
                response: {
                  200: { type: 'object', properties: { keys: { type: 'array', items: keyInfo } } },
                },
              },
            },
            async () => ({ keys: await keys.list() }),
          );
          http.delete<{ Params: { id: string } }>(
            '/api/v1/keys/:id',
            {
              config: { access: 'admin' },
              schema: {
                summary: 'Revoke an API key (keys from settings and the generated key: 409)',
                tags: ['keys'],
                params: {
                  type: 'object',
                  required: ['id'],
                  properties: { id: { type: 'string', maxLength: 200 } },
                },
                response: { 204: { type: 'null' } },
              },
            },
            async (request, reply) => {
              await keys.revoke(request.params.id);
              return reply.code(204).send();
            },
          );
        },
      },
    },
  }),
});
