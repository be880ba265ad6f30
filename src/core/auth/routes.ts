import type { FastifyInstance } from 'fastify';
import { defineModule } from '../module.js';
import { type ApiKeyScope, apiKeyScopes } from '../config.js';

/**
 * Core's key routes, registered like a module's: `POST /api/v1/keys` (admin) makes a key; behind
 * `wattline keys create`. Role `api`.
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
        },
      },
    },
  }),
});
