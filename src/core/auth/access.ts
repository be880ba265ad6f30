import type { FastifyInstance, FastifyRequest, FastifySchema, HTTPMethods } from 'fastify';
import type { ApiKeyScope } from '../config.js';
import type { ApiKeys } from './api-keys.js';

/** Who may use a route or a gRPC method: anyone (`public`), or a key of at least this scope. */
export type Access = 'public' | ApiKeyScope;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may use the route; unset: `read` for GET and HEAD, `write` for anything else. */
    access?: Access;
    /**
     * Where the route's key is when the request has no `Authorization` header, as an Authorization
     * value (`Bearer <key>`): a browser WebSocket cannot set headers, so its key comes in the
     * subprotocol or the query.
     */
    credentials?: (request: FastifyRequest) => string | undefined;
  }
}

/** The access a route gets when it declares none: reading needs `read`, anything else `write`. */
export function defaultAccess(method: HTTPMethods | HTTPMethods[] | string): Access {
  const methods = Array.isArray(method) ? method : [method];
  return methods.every((m) => m === 'GET' || m === 'HEAD') ? 'read' : 'write';
}

/** Whether a call with `access` may go without a key: `public`, or `read` while reads are open. */
export function isOpen(access: Access, requireReadKey: boolean): boolean {
  return access === 'public' || (access === 'read' && !requireReadKey);
}

/** Lets the call through, or throws 401 (no or unknown key) / 403 (too small a scope); HTTP and gRPC alike. */
export async function checkAccess(
  options: { keys: ApiKeys; requireReadKey: boolean },
  access: Access,
  authorization: string | undefined,
): Promise<void> {
  if (isOpen(access, options.requireReadKey)) return;
  await options.keys.require(authorization, access as ApiKeyScope);
}

/**
 * Deny by default: every route needs a key of the scope it declares (`config.access`), or the
 * default for its method; only routes that say `public` are open. Reads are open too while
 * `requireReadKey` is off. The key is checked in `onRequest`, before any body is read, so an
 * unauthorised 200 MB upload is refused at its first byte. Routes added by plugins under
 * `publicPrefixes` (the API docs) are public. Each operation of the OpenAPI document carries its
 * access as `x-access`, and `security: []` when it needs no key.
 */
export function denyByDefault(
  http: FastifyInstance,
  options: { keys: ApiKeys; requireReadKey: boolean; publicPrefixes: readonly string[] },
) {
  const accessOf = (url: string, method: HTTPMethods | HTTPMethods[] | string, declared: Access | undefined) =>
    declared ??
    (options.publicPrefixes.some((p) => url === p || url.startsWith(`${p}/`)) ? 'public' : defaultAccess(method));
  http.addHook('onRoute', (route) => {
    const access = accessOf(route.url, route.method, route.config?.access);
    route.config = { ...route.config, access };
    // @fastify/swagger reads the schema when the document is first asked for, after every route is added
    const documented: FastifySchema & { 'x-access': Access } = {
      ...route.schema,
      'x-access': access,
      ...(isOpen(access, options.requireReadKey) ? { security: [] } : {}),
    };
    route.schema = documented;
  });
  http.addHook('onRequest', async (request) => {
    // no route matched (the 404 handler): nothing to protect
    if (request.is404) return;
    // routes added before this hook (plugins registered earlier) have no access yet: the default applies
    const access = accessOf(request.routeOptions.url ?? '', request.method, request.routeOptions.config.access);
    const { credentials } = request.routeOptions.config;
    await checkAccess(options, access, request.headers.authorization || credentials?.(request));
  });
}
