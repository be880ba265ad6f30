/**
 * Errors that cross a boundary. Domain code throws these; `core/http` turns them into replies
 * (`{"error","code","field"}`), so no module builds an error body by hand.
 */
export interface WattlineErrorOptions {
  status?: number;
  field?: string;
  line?: number;
  cause?: unknown;
}

export class WattlineError extends Error {
  readonly code: string;
  readonly status: number;
  readonly field?: string;
  readonly line?: number;

  constructor(code: string, message: string, options: WattlineErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.field = options.field;
    this.line = options.line;
  }
}

export class InvalidInput extends WattlineError {
  constructor(code: string, message: string, options: Omit<WattlineErrorOptions, 'status'> = {}) {
    super(code, message, { ...options, status: 400 });
  }
}

export class Unauthorized extends WattlineError {
  constructor(message: string) {
    super('unauthorized', message, { status: 401 });
  }
}

export class Forbidden extends WattlineError {
  constructor(message: string) {
    super('forbidden', message, { status: 403 });
  }
}

export class NotFound extends WattlineError {
  constructor(message: string, options: Omit<WattlineErrorOptions, 'status'> = {}) {
    super('not_found', message, { ...options, status: 404 });
  }
}

/** The request clashes with the state of what it names (a key that cannot be revoked through the API, say). */
export class Conflict extends WattlineError {
  constructor(code: string, message: string) {
    super(code, message, { status: 409 });
  }
}

export class Overloaded extends WattlineError {
  readonly retryAfterS: number;
  constructor(message: string, retryAfterS: number, options: { code?: string; cause?: unknown } = {}) {
    super(options.code ?? 'overloaded', message, { status: 503, cause: options.cause });
    this.retryAfterS = retryAfterS;
  }
}

/**
 * A service Wattline depends on (the store, the bus) cannot be reached now: HTTP 503 with
 * `Retry-After`, gRPC UNAVAILABLE. Not the message's fault: a bus consumer whose handler throws
 * this keeps the message and tries again once the service is back, without counting a delivery.
 */
export class Unavailable extends Overloaded {
  readonly service: 'store' | 'bus';
  constructor(
    service: 'store' | 'bus',
    message: string,
    options: { retryAfterS?: number; cause?: unknown; code?: string } = {},
  ) {
    super(message, options.retryAfterS ?? 2, { code: options.code ?? `${service}_unavailable`, cause: options.cause });
    this.service = service;
  }
}

/** The client took too long to send its request body (`http.bodyTimeoutMs`): HTTP 408, and the connection is closed. */
export class RequestTimeout extends WattlineError {
  constructor(message: string) {
    super('request_timeout', message, { status: 408 });
  }
}

/** A client over its request rate (`rateLimit.*` settings): HTTP 429 with `Retry-After`, gRPC RESOURCE_EXHAUSTED. */
export class RateLimited extends WattlineError {
  readonly retryAfterS: number;
  constructor(retryAfterS: number) {
    // edgecom's wording, kept for its clients
    super('rate_limited', 'rate limit exceeded', { status: 429 });
    this.retryAfterS = retryAfterS;
  }
}

/** An upstream API failed or answered nonsense; the message is ours and safe to show. */
export class UpstreamFailed extends WattlineError {
  constructor(message: string, options: Omit<WattlineErrorOptions, 'status'> = {}) {
    super('upstream_failed', message, { ...options, status: 502 });
  }
}
