import { isKnownUnit, KNOWN_UNITS } from '../../core/energy/units.js';
import {
  type ReadingBatch,
  ReadingBatchBuilder,
  SERIES_KEY_PATTERN,
  SERIES_KINDS,
  type SeriesMeta,
} from '../../core/readings.js';
import { DAY_MS, parseTimestamp, type Precision, timestampProblem } from '../../core/time/timestamps.js';
import { JsonValues, type JsonValue } from './json-values.js';

/** What a line says of its series (`unit`, `kind`; null is as absent), or why it is refused. */
function seriesMeta(unit: unknown, kind: unknown): SeriesMeta | string | undefined {
  const meta: SeriesMeta = {};
  if (unit !== undefined && unit !== null) {
    if (typeof unit !== 'string' || !isKnownUnit(unit))
      return `unit must be one of ${KNOWN_UNITS.join(', ')} (got ${JSON.stringify(unit).slice(0, 20)})`;
    meta.unit = unit;
  }
  if (kind !== undefined && kind !== null) {
    if (typeof kind !== 'string' || !(SERIES_KINDS as readonly string[]).includes(kind))
      return `kind must be one of ${SERIES_KINDS.join(', ')} (got ${JSON.stringify(kind).slice(0, 20)})`;
    meta.kind = kind;
  }
  return meta.unit === undefined && meta.kind === undefined ? undefined : meta;
}

/** A bad reading: by line number, or by item number in a JSON array (both from 1). */
export type LineError = { line: number; error: string } | { item: number; error: string };

export interface NdjsonReadingsOptions {
  batchSize: number;
  maxLineBytes: number;
  maxInvalidReported: number;
  /** `ndjson` (default) splits at newlines; `json` also takes one object or an array of objects. */
  format?: 'ndjson' | 'json';
  /** The unit of epoch numbers; without it, their number of digits says (see core/time/timestamps.ts). */
  precision?: Precision;
  /** Earliest accepted reading, epoch ms (`ingest.minTime`); none when absent. */
  minTime?: number;
  /** How far past now a reading may be (`ingest.maxFutureMs`); no limit when absent. */
  maxFutureMs?: number;
  /** Hands a full batch on; resolves when it is durable. */
  publish: (batch: ReadingBatch) => Promise<void>;
  /** Batches handed on but not yet durable before the parser waits (bounds memory per request). */
  maxInFlight?: number;
}

/**
 * Streams NDJSON readings — `{"sensor","value","timestamp"}` (cloud-lada) or `{"series","value","ts"}`
 * — into batches, keeping good lines and recording bad ones by line number (1-based; blank lines
 * count but are not errors). Memory stays bounded by batch size × batches in flight.
 */
export class NdjsonReadings {
  accepted = 0;
  invalidCount = 0;
  readonly invalid: LineError[] = [];
  /** The line number, or in a JSON array the item number (`counting`). */
  private lineNo = 0;
  private counting: 'line' | 'item' = 'line';
  private readonly json?: JsonValues;
  private readonly minTime: number;
  /** Now + maxFutureMs, taken once per body: a clock read per line would cost more than the check. */
  private readonly maxTime: number;
  private tail = '';
  private skippingLongLine = false;
  private atStart = true;
  private builder: ReadingBatchBuilder;
  private inFlight: Promise<void>[] = [];
  private failure: unknown;

  constructor(private readonly options: NdjsonReadingsOptions) {
    this.builder = new ReadingBatchBuilder(options.batchSize);
    if (options.format === 'json') this.json = new JsonValues((text) => this.isTooLong(text));
    this.minTime = options.minTime ?? -Infinity;
    this.maxTime = options.maxFutureMs === undefined ? Infinity : Date.now() + options.maxFutureMs;
  }

  /** Feeds decoded text; resolves when the parser may take more. */
  async write(text: string): Promise<void> {
    if (this.atStart && text.length > 0) {
      this.atStart = false;
      // a UTF-8 byte order mark (some Windows tools write one) is not part of line 1
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.json) return this.handleValues(this.json.feed(text));
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      if (this.tail || this.skippingLongLine) {
        this.finishLine(this.tail + text.slice(start, nl));
        this.tail = '';
      } else {
        this.handleLine(text.slice(start, nl));
      }
      if (this.builder.full) await this.flushBatch();
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      if (this.skippingLongLine) return;
      this.tail += text.slice(start);
      if (this.isTooLong(this.tail)) {
        this.skippingLongLine = true;
        this.tail = '';
      }
    }
  }

  /** Ends the stream: handles a last line without a newline and waits for every batch. */
  async end(): Promise<void> {
    await this.endWithoutWaiting();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** Ends the stream and hands on the last batch, without waiting for batches to be durable. */
  async endWithoutWaiting(): Promise<void> {
    if (this.json) await this.handleValues(this.json.finish());
    if (this.tail || this.skippingLongLine) this.finishLine(this.tail);
    this.tail = '';
    await this.flushBatch();
  }

  private async handleValues(values: Iterable<JsonValue>) {
    for (const value of values) {
      this.counting = value.at;
      this.lineNo = value.n - 1;
      if (value.tooLong) {
        this.lineNo++;
        this.reject(`line is longer than ${this.options.maxLineBytes} bytes`);
      } else {
        this.handleLine(value.text);
      }
      if (this.builder.full) await this.flushBatch();
    }
  }

  private finishLine(line: string) {
    if (this.skippingLongLine) {
      this.skippingLongLine = false;
      this.lineNo++;
      this.reject(`line is longer than ${this.options.maxLineBytes} bytes`);
    } else {
      this.handleLine(line);
    }
  }

  private handleLine(raw: string) {
    this.lineNo++;
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (line.length === 0 || line.trim() === '') return;
    if (this.isTooLong(line)) return this.reject(`line is longer than ${this.options.maxLineBytes} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return this.reject('line is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return this.reject('line must be a JSON object with series (or sensor), value and ts (or timestamp)');
    }
    const o = parsed as Record<string, unknown>;
    const series = o.series ?? o.sensor;
    if (typeof series !== 'string')
      return this.reject(series === undefined ? 'series (or sensor) is missing' : 'series must be a string');
    let keyId = this.builder.keyId(series);
    if (keyId === undefined && !SERIES_KEY_PATTERN.test(series)) {
      return this.reject(
        'series must be 1–200 characters of letters, digits and _ . : / -, starting with a letter or digit',
      );
    }
    const value = o.value;
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.reject('value is not a finite number');
    const rawTs = o.ts ?? o.timestamp;
    if (rawTs === undefined || rawTs === null) return this.reject('ts (or timestamp) is missing');
    const ts = parseTimestamp(rawTs, this.options.precision);
    // NaN fails both comparisons too
    if (!(ts >= this.minTime && ts <= this.maxTime)) return this.reject(this.timeProblem(o, rawTs, ts));
    // most lines name neither: two property reads, nothing more
    const { unit, kind } = o;
    const meta = unit === undefined && kind === undefined ? undefined : seriesMeta(unit, kind);
    if (typeof meta === 'string') return this.reject(meta);
    keyId ??= this.builder.addKey(series);
    if (meta) this.builder.setMeta(keyId, meta);
    this.builder.push(keyId, ts, value);
  }

  /** Why a reading's time is refused: not a time, or outside `ingest.minTime` … now + `ingest.maxFutureMs`. */
  private timeProblem(o: Record<string, unknown>, raw: unknown, ts: number): string {
    const field = o.ts === undefined || o.ts === null ? 'timestamp' : 'ts';
    if (Number.isNaN(ts)) return timestampProblem(raw, this.options.precision, field);
    const when = new Date(ts).toISOString();
    if (ts < this.minTime) return `${field} ${when} is before ${new Date(this.minTime).toISOString()} (ingest.minTime)`;
    const days = Math.round(((this.options.maxFutureMs ?? 0) / DAY_MS) * 100) / 100;
    return `${field} ${when} is more than ${days} days in the future (ingest.maxFutureMs)`;
  }

  /** Whether `text` is longer than `maxLineBytes` in UTF-8 (not in characters: "ä" is 2 bytes, "⚡" 3). */
  private isTooLong(text: string): boolean {
    const max = this.options.maxLineBytes;
    // a UTF-16 code unit is 1 to 3 UTF-8 bytes: count bytes only when the length leaves it open
    if (text.length > max) return true;
    return text.length * 3 > max && Buffer.byteLength(text, 'utf8') > max;
  }

  private reject(error: string) {
    this.invalidCount++;
    if (this.invalid.length < this.options.maxInvalidReported)
      this.invalid.push(this.counting === 'line' ? { line: this.lineNo, error } : { item: this.lineNo, error });
  }

  private async flushBatch() {
    if (this.builder.length === 0) return;
    const batch = this.builder.take();
    const published = this.options.publish(batch).then(
      () => {
        this.accepted += batch.length;
      },
      (err) => {
        this.failure ??= err;
      },
    );
    this.inFlight.push(published);
    if (this.inFlight.length >= (this.options.maxInFlight ?? 2)) await this.inFlight.shift();
    if (this.failure) throw this.failure;
  }
}
