import type { FastifyInstance } from 'fastify';
import { defineModule } from '../module.js';

const deadLetter = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    topic: { type: 'string' },
    reason: { type: 'string' },
    deliveries: { type: 'integer' },
    time: { type: 'string', format: 'date-time' },
    bytes: { type: 'integer' },
  },
} as const;

/**
 * Core's dead-letter routes, registered like a module's, all admin: `GET /api/v1/dlq` lists what
 * the bus dead-lettered (reason, topic, time, size), `POST /api/v1/dlq/replay` publishes it to its
 * topic again and removes it; behind `wattline dlq ls|replay`. Role `api`.
 */
export const dlqModule = defineModule({
  name: 'dlq',
  create: ({ bus }) => ({
    service: undefined,
    roles: {
      api: {
        routes: async (http: FastifyInstance) => {
          http.get<{ Querystring: { topic?: string; limit?: number } }>(
            '/api/v1/dlq',
            {
              config: { access: 'admin' },
              schema: {
                summary: 'List the dead-lettered bus messages, oldest first',
                tags: ['bus'],
                querystring: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    topic: { type: 'string', maxLength: 200 },
                    limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
                  },
                },
                response: {
                  200: { type: 'object', properties: { deadLetters: { type: 'array', items: deadLetter } } },
                },
              },
            },
            async (request) => ({ deadLetters: await bus.deadLetters(request.query) }),
          );
          http.post<{ Body: { topic?: string; ids?: string[] } }>(
            '/api/v1/dlq/replay',
            {
              config: { access: 'admin' },
              schema: {
                summary: 'Publish dead-lettered messages to their topics again and remove them (default: all)',
                tags: ['bus'],
                body: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    topic: { type: 'string', maxLength: 200 },
                    ids: { type: 'array', items: { type: 'string', maxLength: 40 }, maxItems: 10_000 },
                  },
                },
                response: { 200: { type: 'object', properties: { replayed: { type: 'integer' } } } },
              },
            },
            async (request) => ({ replayed: await bus.replayDeadLetters(request.body ?? {}) }),
          );
        },
      },
    },
  }),
});
