import { Unavailable } from '../errors.js';

// Socket errors that mean the server is not there (refused, reset, gone away), not that a statement is wrong.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// SQLSTATEs that mean "the server cannot serve you now" (PostgreSQL appendix A, errcodes):
// class 08 connection exception; 57P01 admin_shutdown (pg_ctl stop -m fast), 57P02 crash_shutdown,
// 57P03 cannot_connect_now (starting up or shutting down); 53300 too_many_connections.
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// node-postgres reports a dropped connection with these messages and no code (pg/lib/client.js)
const DROPPED =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

/**
 * True when `err` says the store cannot be reached now (down, restarting, out of connections);
 * false when it refused the statement itself (a constraint, a type, a bug), which retrying never
 * fixes. The one place that tells the two apart: every other place asks `instanceof Unavailable`.
 */
export function isStoreUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (e instanceof Unavailable) return e.service === 'store';
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08')))
      return true;
    if (typeof message === 'string' && DROPPED.test(message)) return true;
    // Node reports a refused connection to every address of a name as an AggregateError
    if (e instanceof AggregateError && e.errors.some((inner) => isStoreUnreachable(inner))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

// DuckDB says "No space left on device" (the OS's words); PostgreSQL's SQLSTATE 53100 is disk_full
const DISK_FULL = /no space left on device|ENOSPC|disk quota exceeded/i;

/**
 * True when `err` says the store's disk is full: like an outage, writes can succeed again without a
 * restart once space is freed, so it is answered 503 and retried, never a 500 and never dropped.
 */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (e instanceof Unavailable) return e.code === DISK_FULL_CODE;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === 'ENOSPC' || code === '53100' || code === 'EDQUOT') return true;
    if (typeof message === 'string' && DISK_FULL.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const DISK_FULL_CODE = 'store_disk_full';

/**
 * `err` as the store's callers should see it: `Unavailable` when the store is unreachable or its
 * disk is full, else unchanged.
 */
export function storeError(err: unknown): unknown {
  if (err instanceof Unavailable) return err;
  // the driver's words stay in `cause` (logged), never in a reply
  if (isDiskFull(err))
    return new Unavailable('store', "the store's disk is full; retry once space is freed", {
      retryAfterS: 10,
      cause: err,
      code: DISK_FULL_CODE,
    });
  if (!isStoreUnreachable(err)) return err;
  return new Unavailable('store', 'the store is unavailable; retry shortly', { cause: err });
}
