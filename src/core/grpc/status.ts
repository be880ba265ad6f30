import { status } from '@grpc/grpc-js';
import { Overloaded, WattlineError } from '../errors.js';

// the HTTP status each error class carries, as the gRPC code a client expects instead
const codeByHttpStatus: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.ALREADY_EXISTS,
  413: status.RESOURCE_EXHAUSTED,
  429: status.RESOURCE_EXHAUSTED,
  503: status.UNAVAILABLE,
};

export interface GrpcStatus {
  code: status;
  details: string;
  /** True when the failure is ours, not the client's: the caller logs it once with the request id. */
  internal: boolean;
}

/**
 * The gRPC counterpart of core/http's error replies: `WattlineError` classes map to codes by their
 * HTTP status, with their message. A 5xx `WattlineError` keeps its message too (we wrote it, and
 * edgecom's clients expect `query failed: …`); any other error is `internal error`, so a driver's
 * text never reaches the client.
 */
export function toGrpcStatus(err: unknown): GrpcStatus {
  if (err instanceof WattlineError) {
    if (err.status < 500 || err instanceof Overloaded) {
      return {
        code: codeByHttpStatus[err.status] ?? (err.status < 500 ? status.INVALID_ARGUMENT : status.UNAVAILABLE),
        details: err.message,
        internal: false,
      };
    }
    return { code: status.INTERNAL, details: err.message, internal: true };
  }
  return { code: status.INTERNAL, details: 'internal error', internal: true };
}
