import type { FastifyRequest } from 'fastify';
import type { ApiKeyScope } from '../config.js';
import type { ApiKeys } from './api-keys.js';

/**
 * A route hook that checks the key before the body is read, so an unauthorised 200 MB upload
 * is refused at its first byte. With `onlyIf` false the route stays open (reads by default).
 */
export function requireKey(keys: ApiKeys, scope: ApiKeyScope, onlyIf = true) {
  return async (request: FastifyRequest) => {
    if (onlyIf) await keys.require(request.headers.authorization, scope);
  };
}
