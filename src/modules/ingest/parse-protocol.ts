import type { SeriesMeta } from '../../core/readings.js';
import type { Precision } from '../../core/time/timestamps.js';
import type { LineError } from './ndjson.js';

/** Messages between the ingest route and its parse workers (one session per request body). */

export interface ParseSettings {
  batchSize: number;
  maxLineBytes: number;
  maxInvalidReported: number;
  /** Epoch ms (`ingest.minTime`). */
  minTime: number;
  maxFutureMs: number;
}

/** What one request's body is: its format (from `Content-Type`, or the route) and its `precision` parameter. */
export interface BodySettings {
  format?: 'ndjson' | 'json' | 'line-protocol';
  /** Line protocol also has `m` and `h` (InfluxDB v1), and `ns` is its default. */
  precision?: Precision | 'm' | 'h';
  /** Line protocol: the time of lines without one (epoch ms), taken once per body. */
  now?: number;
  /** Line protocol: the tag keys whose values name a series (`ingest.lineProtocolSeriesTags`). */
  seriesTags?: readonly string[];
}

export type ToWorker =
  | { type: 'start'; session: number; settings: ParseSettings & BodySettings }
  | { type: 'chunk'; session: number; bytes: Uint8Array }
  | { type: 'end'; session: number }
  | { type: 'published'; session: number; batchNo: number }
  | { type: 'publish-failed'; session: number; batchNo: number; message: string };

export type FromWorker =
  | { type: 'chunk-done'; session: number }
  | {
      type: 'batch';
      session: number;
      batchNo: number;
      keys: string[];
      meta?: (SeriesMeta | null)[];
      keyIndex: ArrayBuffer;
      ts: ArrayBuffer;
      value: ArrayBuffer;
      length: number;
    }
  /** Every batch has been sent (whether durable yet is the main thread's to know). */
  | { type: 'done'; session: number; invalid: LineError[]; invalidCount: number }
  | { type: 'failed'; session: number; message: string };
