import type { FastifyInstance, HTTPMethods } from 'fastify';
import type { ApiKeyScope } from '../config.js';
import type { ApiKeys } from './api-keys.js';

/** Who may use a route: anyone (`public`), or a key of at least this scope. */
export type Access = 'public' | ApiKeyScope;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may use the route; unset: `read` for GET and HEAD, `write` for anything else. */
    access?: Access;
  }
}

/** The access a route gets when it declares none: reading needs `read`, anything else `write`. */
export function defaultAccess(method: HTTPMethods | HTTPMethods[]): Access {
  const methods = Array.isArray(method) ? method : [method];
  return methods.every((m) => m === 'GET' || m === 'HEAD') ? 'read' : 'write';
}

/**
 * Deny by default: every route needs a key of the scope it declares (`config.access`), or the
 * default for its method; only routes that say `public` are open. Reads are open too while
 * `requireReadKey` is off. The key is checked in `onRequest`, before any body is read, so an
 * unauthorised 200 MB upload is refused at its first byte. Routes added by plugins under
 * `publicPrefixes` (the API docs) are public.
 */
export function denyByDefault(
  http: FastifyInstance,
  options: { keys: ApiKeys; requireReadKey: boolean; publicPrefixes: readonly string[] },
) {
  http.addHook('onRoute', (route) => {
    const isPublic = options.publicPrefixes.some((p) => route.url === p || route.url.startsWith(`${p}/`));
    const access = route.config?.access ?? (isPublic ? 'public' : defaultAccess(route.method));
    route.config = { ...route.config, access };
  });
  http.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    // no route matched (the 404 handler): nothing to protect
    if (access === undefined || access === 'public') return;
    if (access === 'read' && !options.requireReadKey) return;
    await options.keys.require(request.headers.authorization, access);
  });
}
