import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimited } from './errors.js';

/** Guards a transport per client: `consume` resolves when the client may go ahead, else throws `RateLimited`. */
export interface RateLimiter {
  consume(client: string): Promise<void>;
}

/**
 * The one limiter gRPC and HTTP both use, one instance per transport with its own settings; `undefined`
 * when `perSecond` is 0 (no limit). A client may send `burst` requests at once and `perSecond` on
 * average: each client gets `burst` requests per window of `burst / perSecond` seconds (5/s burst 10:
 * 10 requests every 2 s). Like edgecom's token bucket in rate and burst, except that a client can
 * land up to 2 × burst across a window boundary.
 */
export function createRateLimiter(options: { perSecond: number; burst: number }): RateLimiter | undefined {
  if (options.perSecond <= 0) return undefined;
  // counters live in memory per process; a window's counters expire with it, so idle clients cost nothing
  const limiter = new RateLimiterMemory({ points: options.burst, duration: options.burst / options.perSecond });
  return {
    async consume(client) {
      try {
        await limiter.consume(client);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw new RateLimited(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
        throw err;
      }
    },
  };
}

/**
 * Who a request counts against: its API key when it carries one the caller knows to be real, else its
 * address (HTTP passes only keys it has accepted, so made-up keys buy no budget of their own). The
 * key is kept only as a hash.
 */
export function clientId(apiKey: string | undefined, address: string): string {
  return apiKey ? `key:${createHash('sha256').update(apiKey).digest('base64url').slice(0, 22)}` : `addr:${address}`;
}
