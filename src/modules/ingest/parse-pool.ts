import { StringDecoder } from 'node:string_decoder';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/log.js';
import type { ReadingBatch } from '../../core/readings.js';
import type { LineError } from './ndjson.js';
import type { BodySettings, FromWorker, ParseSettings, ToWorker } from './parse-protocol.js';
import { createReadingsParser } from './readings-parser.js';

export interface ParseResult {
  accepted: number;
  invalid: LineError[];
  invalidCount: number;
}

interface Session {
  publish: (batch: ReadingBatch) => Promise<void>;
  published: Promise<void>[];
  /** The first publish that failed: the worker stops on it and reports only its message. */
  publishFailure?: Error;
  accepted: number;
  chunkDone: (() => void)[];
  resolve: (result: ParseResult) => void;
  reject: (err: Error) => void;
}

interface PooledWorker {
  worker: Worker;
  sessions: Map<number, Session>;
}

// chunks a request may have handed to its worker before it waits (bounds memory per request)
const MAX_CHUNKS_AHEAD = 4;
const workerEntry = new URL('./parse-worker-entry.js', import.meta.url);

/**
 * Parses request bodies on worker threads, so JSON parsing (the largest per-line cost) runs beside
 * the main thread's HTTP and store work instead of in front of it. With no workers it parses on
 * the main thread. Batches come back to the main thread, which publishes them on the bus.
 */
export function createParsePool(options: { workers: number; settings: ParseSettings; log: Logger }) {
  const pool: PooledWorker[] = [];
  let nextSession = 1;
  let closed = false;

  function spawn(): PooledWorker {
    const entry: PooledWorker = { worker: new Worker(workerEntry), sessions: new Map() };
    entry.worker.on('message', (message: FromWorker) => onMessage(entry, message));
    entry.worker.on('error', (err) => {
      options.log.error({ err }, 'parse worker failed');
      for (const s of entry.sessions.values()) s.reject(err);
      entry.sessions.clear();
    });
    entry.worker.on('exit', () => {
      const i = pool.indexOf(entry);
      if (i >= 0) pool.splice(i, 1);
      for (const s of entry.sessions.values()) s.reject(new Error('parse worker exited'));
    });
    // kept referenced: while a request waits on its worker, the paused socket does not keep the
    // process alive, so an unref'd worker would let a SIGTERM'd process exit mid-request
    return entry;
  }

  function onMessage(entry: PooledWorker, message: FromWorker) {
    const session = entry.sessions.get(message.session);
    if (!session) return;
    const post = (m: ToWorker) => entry.worker.postMessage(m);
    switch (message.type) {
      case 'chunk-done':
        session.chunkDone.shift()?.();
        break;
      case 'batch': {
        const batch: ReadingBatch = {
          keys: message.keys,
          keyIndex: new Int32Array(message.keyIndex),
          ts: new Float64Array(message.ts),
          value: new Float64Array(message.value),
          length: message.length,
        };
        if (message.meta) batch.meta = message.meta;
        const published = session.publish(batch);
        session.published.push(published);
        published.then(
          () => {
            session.accepted += batch.length;
            post({ type: 'published', session: message.session, batchNo: message.batchNo });
          },
          (err: Error) => {
            session.publishFailure ??= err;
            post({ type: 'publish-failed', session: message.session, batchNo: message.batchNo, message: err.message });
          },
        );
        break;
      }
      case 'done':
        entry.sessions.delete(message.session);
        Promise.all(session.published).then(
          () =>
            session.resolve({
              accepted: session.accepted,
              invalid: message.invalid,
              invalidCount: message.invalidCount,
            }),
          session.reject,
        );
        break;
      case 'failed':
        entry.sessions.delete(message.session);
        // a failed publish keeps its type (a full bus is a 503, not a 500)
        session.reject(session.publishFailure ?? new Error(message.message));
        break;
    }
  }

  /** The least busy worker, starting another while the pool is below its size. */
  function pick(): PooledWorker {
    const idle = pool.find((w) => w.sessions.size === 0);
    if (idle) return idle;
    if (pool.length < options.workers) {
      const w = spawn();
      pool.push(w);
      return w;
    }
    return pool.reduce((a, b) => (b.sessions.size < a.sessions.size ? b : a));
  }

  async function parseOnMainThread(
    body: AsyncIterable<Uint8Array>,
    publish: Session['publish'],
    checkRoom: () => Promise<void>,
    bodySettings: BodySettings,
  ): Promise<ParseResult> {
    const parser = createReadingsParser({ ...options.settings, ...bodySettings }, publish);
    const decoder = new StringDecoder('utf8');
    for await (const chunk of body) {
      await checkRoom();
      await parser.write(decoder.write(chunk as Buffer));
    }
    await parser.write(decoder.end());
    await parser.end();
    return parser;
  }

  return {
    /**
     * Parses `body`, handing full batches to `publish`; resolves once every batch is published.
     * `checkRoom` is asked before each chunk is taken: when it throws (the bus is full), reading
     * stops at once, the client's unread bytes wait in the socket, and `parse` rejects with its
     * error (whatever was handed over already is still published). `bodySettings` are this body's
     * format and precision.
     */
    async parse(
      body: AsyncIterable<Uint8Array>,
      publish: (batch: ReadingBatch) => Promise<void>,
      checkRoom: () => Promise<void> = async () => undefined,
      bodySettings: BodySettings = {},
    ): Promise<ParseResult> {
      if (closed) throw new Error('parse pool is closed');
      if (options.workers === 0) return parseOnMainThread(body, publish, checkRoom, bodySettings);
      const entry = pick();
      const id = nextSession++;
      let ended = false;
      const result = new Promise<ParseResult>((resolve, reject) => {
        entry.sessions.set(id, { publish, published: [], accepted: 0, chunkDone: [], resolve, reject });
      });
      // a failure may arrive while chunks are still being sent; it is awaited below
      result.catch(() => undefined);
      const session = entry.sessions.get(id)!;
      const post = (m: ToWorker, transfer: ArrayBuffer[] = []) => entry.worker.postMessage(m, transfer);
      post({ type: 'start', session: id, settings: { ...options.settings, ...bodySettings } });
      const ahead: Promise<void>[] = [];
      try {
        for await (const chunk of body) {
          if (!entry.sessions.has(id)) break; // failed: stop reading
          await checkRoom();
          const bytes = new Uint8Array(chunk as Buffer); // a copy of just this chunk, to transfer
          ahead.push(new Promise<void>((r) => session.chunkDone.push(r)));
          post({ type: 'chunk', session: id, bytes }, [bytes.buffer]);
          if (ahead.length >= MAX_CHUNKS_AHEAD) await Promise.race([ahead.shift()!, result]);
        }
        ended = true;
        if (entry.sessions.has(id)) post({ type: 'end', session: id });
      } finally {
        if (!ended && entry.sessions.has(id)) {
          // the client went away mid-body: finish what was sent so nothing half-published lingers
          post({ type: 'end', session: id });
        }
      }
      return result;
    },
    async close() {
      closed = true;
      await Promise.all(pool.map((w) => w.worker.terminate()));
    },
  };
}

export type ParsePool = ReturnType<typeof createParsePool>;
