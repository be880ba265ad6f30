import pRetry, { AbortError } from 'p-retry';
import type { z } from 'zod';
import { UNREACHABLE_CODES } from '../../core/net-errors.js';
import type { Logger } from '../../core/log.js';

export interface UpstreamOptions {
  name: string;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  minIntervalMs: number;
  log: Logger;
  /** Stops waiting for upstream at once (on shutdown); the request then fails without retries. */
  signal?: AbortSignal;
}

/** An upstream answered in a way no retry will fix (4xx other than 429, or a body of the wrong shape). */
export class UpstreamError extends Error {}

// No connection at all: nothing answered (refused, no DNS, no route), or undici's connect timed out
const UNREACHABLE = new Set([...UNREACHABLE_CODES, 'UND_ERR_CONNECT_TIMEOUT']);

/** Worth another try; after the last retry it is the `UpstreamError` the caller sees. */
class Retryable extends UpstreamError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface Upstream {
  /** GETs `url` and checks the reply against `schema`. */
  getJson<T>(url: string, schema: z.ZodType<T>, headers?: Record<string, string>): Promise<T>;
}

/**
 * A client for one upstream API: request timeouts; retries with exponential backoff and jitter on
 * timeouts, 5xx, 429 (waiting at least the Retry-After) and an unreachable host; at most one request
 * per `minIntervalMs`; and replies checked against a zod schema, so a reply of the wrong shape is an
 * error naming the field — never a silent zero. Each retry is logged at debug level: a caller that
 * polls says once that upstream is down (see the runner).
 *
 * `failingFast` is the same client (sharing the rate limit) for requests someone waits on: an
 * unreachable host fails at once (`<name>: upstream unreachable: <host> (<code>)`) instead of after a
 * minute of retries; other failures are retried as usual.
 */
export function createUpstream(options: UpstreamOptions): Upstream & { failingFast: Upstream } {
  let nextSlotMs = 0;
  const waitForSlot = async () => {
    const now = Date.now();
    const at = Math.max(now, nextSlotMs);
    nextSlotMs = at + options.minIntervalMs;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  };

  async function attempt(url: string, headers: Record<string, string>, retryUnreachable: boolean): Promise<unknown> {
    await waitForSlot();
    if (options.signal?.aborted) throw new AbortError(new UpstreamError(`${options.name}: stopped`));
    const timeout = AbortSignal.timeout(options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json', ...headers },
        signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
      });
    } catch (err) {
      if (options.signal?.aborted) throw new AbortError(new UpstreamError(`${options.name}: stopped`));
      // fetch's own message is just "fetch failed"; the cause says why (ENOTFOUND, ECONNREFUSED, …)
      const cause = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      // a host with several addresses fails with an AggregateError of one error per address
      const code = cause?.code ?? cause?.errors?.[0]?.code;
      if (code && UNREACHABLE.has(code)) {
        const failure = new Retryable(`${options.name}: upstream unreachable: ${new URL(url).host} (${code})`);
        throw retryUnreachable ? failure : new AbortError(failure);
      }
      const why =
        (err as Error).name === 'TimeoutError'
          ? `no answer within ${options.timeoutMs} ms`
          : `${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
      throw new Retryable(`${options.name}: ${why}`);
    }
    if (response.status === 429 || response.status >= 500) {
      const retryAfterS = Number(response.headers.get('retry-after'));
      await response.body?.cancel();
      throw new Retryable(
        `${options.name} answered ${response.status}`,
        Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : undefined,
      );
    }
    if (!response.ok) {
      const text = (await response.text()).slice(0, 200);
      throw new AbortError(new UpstreamError(`${options.name} answered ${response.status}: ${text}`));
    }
    try {
      return await response.json();
    } catch {
      throw new AbortError(new UpstreamError(`${options.name} answered with a body that is not JSON`));
    }
  }

  const client = (retryUnreachable: boolean): Upstream => ({
    async getJson<T>(url: string, schema: z.ZodType<T>, headers: Record<string, string> = {}): Promise<T> {
      const body = await pRetry(() => attempt(url, headers, retryUnreachable), {
        retries: options.retries,
        minTimeout: options.retryBaseMs,
        factor: 2,
        randomize: true,
        onFailedAttempt: async (error) => {
          options.log.debug(
            {
              upstream: options.name,
              attempt: error.attemptNumber,
              retriesLeft: error.retriesLeft,
              reason: error.message,
            },
            'upstream request failed; retrying',
          );
          const retryAfterMs = (error as unknown as Retryable).retryAfterMs;
          // p-retry waits its own backoff after this; together they honour Retry-After
          if (retryAfterMs && error.retriesLeft > 0) await new Promise((r) => setTimeout(r, retryAfterMs));
        },
      });
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new UpstreamError(
          `${options.name} answered with an unexpected shape: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
        );
      }
      return parsed.data;
    },
  });
  return { ...client(true), failingFast: client(false) };
}
