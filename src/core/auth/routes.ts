import type { FastifyInstance } from 'fastify';
import { apiKeyScopes, type ApiKeyScope } from '../config.js';
import type { ApiKeys } from './api-keys.js';
import { requireKey } from './hooks.js';

/** `POST /api/v1/keys` (admin): makes a key; behind `wattline keys create`. */
export function registerKeyRoutes(http: FastifyInstance, keys: ApiKeys) {
  http.post<{ Body: { scope?: ApiKeyScope; name?: string } }>(
    '/api/v1/keys',
    {
      onRequest: requireKey(keys, 'admin'),
      schema: {
        summary: 'Create an API key',
        tags: ['keys'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { scope: { type: 'string', enum: [...apiKeyScopes] }, name: { type: 'string', maxLength: 200 } },
        },
        response: { 201: { type: 'object', properties: { key: { type: 'string' }, scope: { type: 'string' } } } },
      },
    },
    async (request, reply) => {
      const scope = request.body?.scope ?? 'write';
      const key = await keys.create(scope, request.body?.name);
      reply.code(201);
      return { key, scope };
    },
  );
}
