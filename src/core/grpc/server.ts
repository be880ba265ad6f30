import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { type Access, checkAccess } from '../auth/access.js';
import { type ApiKeys, keyFromAuthorization } from '../auth/api-keys.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { clientId, type RateLimiter } from '../rate-limit.js';
import { PROTO_OPTIONS } from './proto.js';
import { toGrpcStatus } from './status.js';

/** What a unary handler gets besides its request. */
export interface GrpcCallContext {
  requestId: string;
  metadata: grpc.Metadata;
  /** The `authorization` metadata (`Bearer <key>` or basic), already checked against the method's `access`. */
  authorization: string | undefined;
  /** Carries the request id. */
  log: Logger;
}

/**
 * A unary method: returns the response or throws (`WattlineError` classes become gRPC codes).
 * `access` is checked against the `authorization` metadata before `unary` runs, as for HTTP routes.
 */
export interface UnaryHandler<Request, Response> {
  access: Access;
  unary: (request: Request, call: GrpcCallContext) => Promise<Response>;
}

/** What a server-streaming handler gets: `write` sends a message; `closed` resolves when the stream ends. */
export interface GrpcStreamContext<Message> extends GrpcCallContext {
  /**
   * Queues `message`; `sent` is called once HTTP/2 flow control let it out (or the stream ended), so a
   * handler can bound what a slow client holds (core/live/bounded-subscriber.ts).
   */
  write(message: Message, sent?: () => void): void;
  /** Resolves when the client cancels or the server shuts down. */
  closed: Promise<void>;
}

/** A server-streaming method: resolves when it has nothing more to send (or throws). `access` as for unary. */
export interface StreamHandler<Request, Message> {
  access: Access;
  stream: (request: Request, call: GrpcStreamContext<Message>) => Promise<void>;
}

export type Handler = UnaryHandler<never, unknown> | StreamHandler<never, unknown>;

export interface GrpcServer {
  /**
   * Adds the service `serviceName` (fully qualified, `edgecom.TimeSeriesService`) of a loaded proto,
   * one handler per method, each declaring its `access` (checked before it runs; `read` is open unless
   * `requireReadKey`). Reflection and health list it once the server listens; they are public.
   */
  addService(proto: protoLoader.PackageDefinition, serviceName: string, handlers: Record<string, Handler>): void;
  /** Binds `host:port` (port 0 picks a free one) and resolves with the port bound. */
  listen(host: string, port: number): Promise<number>;
  /** Reports NOT_SERVING, lets calls in flight finish, then stops. */
  close(): Promise<void>;
}

// health Watch and reflection streams can stay open indefinitely; after this they are cut
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The gRPC server every module registers on, the counterpart of core/http: each call gets a request
 * id (`x-request-id` metadata, taken from the client when it sends one), the per-client rate limit,
 * `grpc_requests_total` / `grpc_request_duration_seconds`, and one mapping of errors to gRPC codes.
 * Server reflection (v1 and v1alpha) and `grpc.health.v1.Health` are on, and public.
 */
export function createGrpcServer(options: {
  log: Logger;
  metrics: Metrics;
  limiter: RateLimiter | undefined;
  keys: ApiKeys;
  requireReadKey: boolean;
}): GrpcServer {
  const { log, metrics, limiter } = options;
  const server = new grpc.Server();
  const protos: protoLoader.PackageDefinition[] = [];
  const health = new HealthImplementation({ '': 'SERVING' });
  const serviceNames: string[] = [];
  // open server streams, ended at shutdown so it need not wait for clients to hang up
  const openStreams = new Set<() => void>();

  /** Request id, rate limit, metrics and error mapping around every call, unary or streaming. */
  function begin(
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
    method: string,
    access: Access,
  ) {
    const started = performance.now();
    const requestId = firstText(call.metadata.get('x-request-id')) ?? randomUUID();
    const reqLog = log.child({ reqId: requestId });
    const idMetadata = new grpc.Metadata();
    idMetadata.set('x-request-id', requestId);
    call.sendMetadata(idMetadata);
    const authorization = firstText(call.metadata.get('authorization'));
    const context: GrpcCallContext = { requestId, metadata: call.metadata, authorization, log: reqLog };
    // rate limit first, as on HTTP: a client guessing keys is held to its address's rate
    const admit = async () => {
      const key = keyFromAuthorization(authorization);
      await limiter?.consume(clientId(key && options.keys.isKnown(key) ? key : undefined, peerAddress(call.getPeer())));
      await checkAccess(options, access, authorization);
    };
    const done = (code: grpc.status) => {
      const seconds = (performance.now() - started) / 1000;
      metrics.grpcRequests.inc({ method });
      metrics.grpcHandled.inc({ grpc_method: method, grpc_code: grpc.status[code] });
      metrics.grpcRequestDuration.observe({ method }, seconds);
      reqLog.debug({ method, code: grpc.status[code], ms: seconds * 1000 }, 'grpc request done');
    };
    const failure = (err: unknown) => {
      const status = toGrpcStatus(err);
      if (status.internal) reqLog.error({ err, method }, 'grpc request failed');
      done(status.code);
      return { code: status.code, details: status.details, metadata: idMetadata };
    };
    return { context, admit, done, failure };
  }

  function wrapStream(
    method: string,
    handler: StreamHandler<never, unknown>,
  ): grpc.handleServerStreamingCall<unknown, unknown> {
    return (call) => {
      const { context, admit, done, failure } = begin(call, method, handler.access);
      let end!: () => void;
      const closed = new Promise<void>((resolve) => (end = resolve));
      call.on('cancelled', end);
      openStreams.add(end);
      const run = async () => {
        await admit();
        await handler.stream(call.request as never, {
          ...context,
          closed,
          write: (message, sent) => void call.write(message, sent && (() => sent())),
        });
      };
      run()
        .then(
          () => {
            done(grpc.status.OK);
            if (!call.cancelled) call.end();
          },
          (err: unknown) => {
            const status = failure(err);
            // grpc-js ends a server stream with a status when 'error' is emitted on it
            if (!call.cancelled) call.emit('error', status);
          },
        )
        .finally(() => openStreams.delete(end));
    };
  }

  function wrap(method: string, handler: UnaryHandler<never, unknown>): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      const { context, admit, done, failure } = begin(call, method, handler.access);
      const answer = async () => {
        await admit();
        return handler.unary(call.request as never, context);
      };
      answer().then(
        (response) => {
          done(grpc.status.OK);
          callback(null, response);
        },
        (err: unknown) => callback(failure(err)),
      );
    };
  }

  return {
    addService(proto, serviceName, handlers) {
      const definition = proto[serviceName];
      if (!definition || 'format' in definition) throw new Error(`${serviceName} is not a service of the given proto`);
      const service = definition as protoLoader.ServiceDefinition;
      const implementation: grpc.UntypedServiceImplementation = {};
      for (const [name, method] of Object.entries(service)) {
        const handler = handlers[name];
        if (!handler) throw new Error(`${serviceName}/${name} has no handler`);
        if (method.requestStream) throw new Error(`${serviceName}/${name}: client streaming is not supported`);
        if (method.responseStream !== 'stream' in handler)
          throw new Error(`${serviceName}/${name}: the handler does not match the method's streaming`);
        implementation[name] = 'stream' in handler ? wrapStream(method.path, handler) : wrap(method.path, handler);
      }
      server.addService(service, implementation);
      protos.push(proto);
      serviceNames.push(serviceName);
      health.setStatus(serviceName, 'SERVING');
    },

    async listen(host, port) {
      const everything = Object.assign(
        {},
        protoLoader.loadSync(healthProtoPath, PROTO_OPTIONS),
        ...protos,
      ) as protoLoader.PackageDefinition;
      new ReflectionService(everything).addToServer(server);
      health.addToServer(server);
      const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      return new Promise<number>((resolve, reject) =>
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) =>
          err ? reject(new Error(`gRPC cannot listen on ${address}: ${err.message}`, { cause: err })) : resolve(bound),
        ),
      );
    },

    close() {
      for (const name of ['', ...serviceNames]) health.setStatus(name, 'NOT_SERVING');
      for (const end of openStreams) end();
      return new Promise<void>((resolve) => {
        const cut = setTimeout(() => {
          log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'grpc calls still open at shutdown were cut');
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(cut);
          resolve();
        });
      });
    },
  };
}

function firstText(values: grpc.MetadataValue[]): string | undefined {
  const [value] = values;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The client's address without its port (`127.0.0.1:53122` → `127.0.0.1`, `::1:53122` → `::1`). */
export function peerAddress(peer: string): string {
  const bracketed = /^\[(.*)\]:\d+$/.exec(peer);
  return bracketed ? bracketed[1] : peer.replace(/:\d+$/, '');
}
