import { isKnownUnit, KNOWN_UNITS } from '../../core/energy/units.js';
import { SERIES_KEY_PATTERN, SERIES_KINDS, type SeriesMeta } from '../../core/readings.js';
import { DAY_MS, parseTimestamp, type Precision, timestampProblem } from '../../core/time/timestamps.js';
import { JsonValues, type JsonValue } from './json-values.js';
import { newFastLine, readFastLine } from './ndjson-fast-line.js';
import { LineStream, type LineStreamOptions } from './line-stream.js';

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

export type { LineError } from './line-stream.js';

export interface NdjsonReadingsOptions extends LineStreamOptions {
  /** `ndjson` (default) splits at newlines; `json` also takes one object or an array of objects. */
  format?: 'ndjson' | 'json';
  /** The unit of epoch numbers; without it, their number of digits says (see core/time/timestamps.ts). */
  precision?: Precision;
  /** Earliest accepted reading, epoch ms (`ingest.minTime`); none when absent. */
  minTime?: number;
  /** How far past now a reading may be (`ingest.maxFutureMs`); no limit when absent. */
  maxFutureMs?: number;
}

/**
 * Streams NDJSON readings — `{"sensor","value","timestamp"}` (cloud-lada) or `{"series","value","ts"}`
 * — into batches, keeping good lines and recording bad ones by line number (1-based; blank lines
 * count but are not errors). Memory stays bounded by batch size × batches in flight.
 */
export class NdjsonReadings extends LineStream {
  private readonly json?: JsonValues;
  private readonly minTime: number;
  /** Now + maxFutureMs, taken once per body: a clock read per line would cost more than the check. */
  private readonly maxTime: number;
  /** The last line read by the fast path (ndjson-fast-line.ts). */
  private readonly fast = newFastLine();

  constructor(private readonly options: NdjsonReadingsOptions) {
    super(options);
    // a value's text so far is measured as a whole line is: without a CR that may end it
    if (options.format === 'json')
      this.json = new JsonValues((text) =>
        this.isTooLong(text, 0, text.charCodeAt(text.length - 1) === 13 ? text.length - 1 : text.length),
      );
    this.minTime = options.minTime ?? -Infinity;
    this.maxTime = options.maxFutureMs === undefined ? Infinity : Date.now() + options.maxFutureMs;
  }

  /** Feeds decoded text; resolves when the parser may take more. */
  override async write(text: string): Promise<void> {
    if (!this.json) return super.write(text);
    return this.handleValues(this.json.feed(this.withoutByteOrderMark(text)));
  }

  /** Ends the stream and hands on the last batch, without waiting for batches to be durable. */
  override async endWithoutWaiting(): Promise<void> {
    if (this.json) await this.handleValues(this.json.finish());
    await super.endWithoutWaiting();
  }

  private async handleValues(values: Iterable<JsonValue>) {
    for (const value of values) {
      this.counting = value.at;
      this.lineNo = value.n - 1;
      if (value.tooLong) {
        this.lineNo++;
        this.rejectTooLong();
      } else {
        this.handleLine(value.text, 0, value.text.length);
      }
      if (this.builder.full) await this.flushBatch();
    }
  }

  protected handleLine(text: string, start: number, end: number) {
    this.lineNo++;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    // too long first, blank or not: a line cut across chunks is judged the same (line-stream.ts)
    if (this.isTooLong(text, start, end)) return this.rejectTooLong();
    const fast = this.fast;
    readFastLine(text, start, end, fast);
    if (fast.ok) {
      // the key's characters and length were checked on the way: it is a valid series key
      const series = text.slice(fast.keyStart, fast.keyEnd);
      const ts = parseTimestamp(fast.rawTs, this.options.precision);
      if (!(ts >= this.minTime && ts <= this.maxTime))
        return this.reject(this.timeProblem(fast.timestampField ? 'timestamp' : 'ts', fast.rawTs, ts));
      this.builder.push(this.builder.keyId(series) ?? this.builder.addKey(series), ts, fast.value);
      return;
    }
    const line = text.slice(start, end);
    if (line.length === 0 || line.trim() === '') return;
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
    if (!(ts >= this.minTime && ts <= this.maxTime))
      return this.reject(this.timeProblem(o.ts === undefined || o.ts === null ? 'timestamp' : 'ts', rawTs, ts));
    // most lines name neither: two property reads, nothing more
    const { unit, kind } = o;
    const meta = unit === undefined && kind === undefined ? undefined : seriesMeta(unit, kind);
    if (typeof meta === 'string') return this.reject(meta);
    keyId ??= this.builder.addKey(series);
    if (meta) this.builder.setMeta(keyId, meta);
    this.builder.push(keyId, ts, value);
  }

  /** Why a reading's time is refused: not a time, or outside `ingest.minTime` … now + `ingest.maxFutureMs`. */
  private timeProblem(field: 'ts' | 'timestamp', raw: unknown, ts: number): string {
    if (Number.isNaN(ts)) return timestampProblem(raw, this.options.precision, field);
    const when = new Date(ts).toISOString();
    if (ts < this.minTime) return `${field} ${when} is before ${new Date(this.minTime).toISOString()} (ingest.minTime)`;
    const days = Math.round(((this.options.maxFutureMs ?? 0) / DAY_MS) * 100) / 100;
    return `${field} ${when} is more than ${days} days in the future (ingest.maxFutureMs)`;
  }
}
