import { Readable } from 'node:stream';
import { RequestTimeout } from '../errors.js';

export interface BodyDeadline {
  /** Wait allowed before the first byte, and the base of the allowance after it. */
  bodyTimeoutMs: number;
  /** Each this many bytes received extends the allowance by a second. */
  bodyMinBytesPerSecond: number;
}

/**
 * `source` as a stream that fails with `RequestTimeout` once the time spent waiting for the client
 * exceeds `bodyTimeoutMs` plus a second per `bodyMinBytesPerSecond` bytes received (the rule of
 * Apache's mod_reqtimeout `body=…,MinRate=…`): a body trickling a byte a second is cut, a large one
 * at a normal rate never is. Only time waiting for bytes the reader asked for counts: a reader that
 * holds the body back (ingest waiting for room on the bus) pauses the clock, and the socket, whose
 * unread bytes then stay in the kernel (TCP backpressure). Stopping early never destroys `source`,
 * so a reply can still be written on its connection.
 */
export function withBodyDeadline(source: Readable, deadline: BodyDeadline): Readable {
  async function* timed() {
    const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let bytes = 0;
    let waitedMs = 0;
    for (;;) {
      const allowanceMs = deadline.bodyTimeoutMs + (bytes * 1000) / deadline.bodyMinBytesPerSecond - waitedMs;
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, allowanceMs));
      });
      const next = await Promise.race([chunks.next(), timedOut]).finally(() => {
        clearTimeout(timer);
        waitedMs += performance.now() - started;
      });
      if (next === 'timeout')
        throw new RequestTimeout(
          `the request body arrived too slowly: ${bytes} bytes in ${Math.round(waitedMs / 1000)} s (at least ${deadline.bodyMinBytesPerSecond} bytes/s after the first ${deadline.bodyTimeoutMs / 1000} s)`,
        );
      if (next.done) return;
      bytes += next.value.length;
      yield next.value;
    }
  }
  return Readable.from(timed(), { objectMode: false });
}
