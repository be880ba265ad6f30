import websocket from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Store } from '../../core/store/index.js';
import type { ModuleContext } from '../../core/module.js';
import { listSensors } from './repository.js';
import type { Settings } from './settings.js';
import { createLiveHub } from './ws-hub.js';

/** The subprotocol the server answers with; a client offers it beside its key. */
export const WS_PROTOCOL = 'wattline';

/**
 * The key of a WebSocket upgrade, for the access check (core/auth/access.ts `credentials`): browsers
 * cannot set an Authorization header on a WebSocket, so the key comes as the offered subprotocol
 * other than `wattline` (`new WebSocket(url, ['wattline', key])`), or as `?key=`.
 */
export function wsCredentials(request: FastifyRequest): string | undefined {
  const offered = request.headers['sec-websocket-protocol'];
  const fromProtocol =
    typeof offered === 'string'
      ? offered
          .split(',')
          .map((p) => p.trim())
          .find((p) => p && p !== WS_PROTOCOL)
      : undefined;
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.key;
  const key = fromProtocol ?? (typeof fromQuery === 'string' && fromQuery ? fromQuery : undefined);
  return key === undefined ? undefined : `Bearer ${key}`;
}

/** Client frames are small JSON requests: a larger one closes the connection (1009) before it is read. */
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

/**
 * `WS /api/v1/ws`: the live feed (readings, room metrics) of the subscribed sensors, rooms and
 * series (ws-hub.ts). Only this process's api role serves it; readings reach it through the bus.
 */
export function wsRoutes(ctx: ModuleContext<Settings>, store: Store): FastifyPluginAsync {
  return async (http) => {
    const hub = createLiveHub({
      bus: ctx.bus,
      loadSensors: () => listSensors(store),
      maxQueued: ctx.settings.buildings.wsMaxQueued,
      pingMs: ctx.settings.buildings.wsPingMs,
      registry: ctx.registry,
      log: ctx.log,
    });
    http.addHook('onClose', async () => hub.close());
    // an upgrade refused before @fastify/websocket saw it (the key check runs first) leaves its socket
    // open once answered: nothing else will use it
    http.addHook('onResponse', async (request) => {
      if (request.headers.upgrade?.toLowerCase() === 'websocket') request.raw.socket.destroy();
    });
    await http.register(websocket, {
      options: {
        maxPayload: MAX_CLIENT_FRAME_BYTES,
        // answer with `wattline` when offered; never echo the key
        handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
      },
    });
    http.route({
      method: 'GET',
      url: '/api/v1/ws',
      config: { access: 'read', credentials: wsCredentials },
      schema: {
        summary: 'Live readings and room metrics over a WebSocket',
        description:
          'Upgrade to a WebSocket, then send `{"action":"subscribe","sensors":[…],"rooms":[…],"series":["home/*"]}`. ' +
          'The key may come as the subprotocol beside `wattline` or as `?key=`. A plain GET is answered 426.',
        tags: ['buildings'],
      },
      handler: async (_request, reply) =>
        reply
          .code(426)
          .header('upgrade', 'websocket')
          .send({ error: 'this endpoint speaks WebSocket: send an upgrade request', code: 'upgrade_required' }),
      wsHandler: (socket) => hub.accept(socket),
    });
  };
}
