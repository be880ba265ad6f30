import { LineStream, type LineStreamOptions } from './line-stream.js';
import { DAY_MS } from '../../core/time/timestamps.js';

/**
 * InfluxDB line protocol (1.x `/write`, 2.x `/api/v2/write`), streamed into reading batches with the
 * same interface as `NdjsonReadings`, so that a route may take either:
 *
 *     measurement[,tag=value…] field=value[,field=value…] [timestamp]
 *
 * Escapes, as InfluxDB's own decoder (github.com/influxdata/line-protocol, lineprotocol/decoder.go,
 * and its line-protocol.ebnf) and the v2 reference ("Special characters") have them: in the
 * measurement `\,` and `\ `; in tag keys, tag values and field keys `\,` `\=` `\ `; a backslash
 * before any other character is itself (so `\\,` is a backslash and an escaped comma). In a string
 * field value a backslash escapes the next character (`\"`, `\\`). Runs of spaces separate the
 * three parts; leading and trailing spaces, blank lines and `#` comment lines are allowed.
 *
 * Each number or boolean field is one reading of the series `<measurement>/<seriesTags values…>/<field>`.
 */

/** The unit of line timestamps: InfluxDB's `precision` (`ns` by default; `m` and `h` are 1.x only). */
export type LineProtocolPrecision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

export interface LineProtocolOptions extends LineStreamOptions {
  /** Unit of timestamps: 'ns' (InfluxDB's default), 'us', 'ms', 's', plus 'm' and 'h' (v1). */
  precision?: LineProtocolPrecision;
  /** Earliest accepted reading, epoch ms (`ingest.minTime`); none when absent. */
  minTime?: number;
  /** How far past `now` a reading may be (`ingest.maxFutureMs`); no limit when absent. */
  maxFutureMs?: number;
  /** Server time (epoch ms) for lines without a timestamp; taken once per body by the caller. */
  now: number;
  /**
   * Tag keys whose values name the series: `<measurement>/<tag values in this order, those
   * present>/<field>`; empty or absent → `<measurement>/<field>`.
   */
  seriesTags?: readonly string[];
}

/** Fields on one line past which duplicates are found by a map, not by looking through them. */
const LINE_INDEX_FROM = 16;
const BACKSLASH = 92;
const SPACE = 32;
const TAB = 9;
const COMMA = 44;
const EQUALS = 61;
const QUOTE = 34;
const HASH = 35;
const CR = 13;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const D0 = 48;
const D9 = 57;

// ±100,000,000 days around 1970, the range of a JS Date
const MAX_ABS_MS = 8.64e15;
/** Timestamps in these units lose this many trailing digits to become milliseconds (floored). */
const DROPPED_DIGITS: Record<LineProtocolPrecision, number> = { ns: 6, us: 3, ms: 0, s: 0, m: 0, h: 0 };
const MS_FACTOR: Record<LineProtocolPrecision, number> = { ns: 1, us: 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const MAX_SERIES_LENGTH = 200;
/** Cached field keys (over all measurement+tag prefixes) before the caches start afresh. */
const MAX_CACHED_FIELDS = 50_000;

/** Characters a series key may hold (SERIES_KEY_PATTERN after its first character). */
const KEY_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  KEY_CHAR[c] = /[A-Za-z0-9_.:/-]/.test(ch) ? 1 : 0;
}
const isAlnum = (c: number) => (c >= D0 && c <= D9) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * A name made fit for a series key: every character outside `A-Z a-z 0-9 _ . : / -` becomes `_`
 * (one `_` per character, a surrogate pair included: `temp°C` → `temp_C`, `cpu load` → `cpu_load`).
 */
function sanitize(s: string): string {
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || KEY_CHAR[c] === 0) break;
    i++;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && KEY_CHAR[c] === 1) {
      out += s[i];
    } else {
      out += '_';
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const next = s.charCodeAt(i + 1);
        if (next >= 0xdc00 && next < 0xe000) i++;
      }
    }
  }
  return out;
}

/** `text[start, end)` with `\,` and `\ ` (and with `equalsToo`, `\=`) unescaped; other backslashes kept. */
function unescapeName(text: string, start: number, end: number, equalsToo: boolean): string {
  let out = '';
  let from = start;
  for (let i = start; i < end - 1; i++) {
    if (text.charCodeAt(i) !== BACKSLASH) continue;
    const next = text.charCodeAt(i + 1);
    if (next === COMMA || next === SPACE || (equalsToo && next === EQUALS)) {
      out += text.slice(from, i);
      from = i + 1; // the escaped character starts the next run
      i++;
    }
  }
  return out + text.slice(from, end);
}

/** End of a key (tag key, field key) from `start`: the first unescaped `=`, `,` or space, or `end`. */
function keyEnd(text: string, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      const next = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      i += next === COMMA || next === SPACE || next === EQUALS ? 2 : 1;
    } else if (c === EQUALS || c === COMMA || c === SPACE) {
      return i;
    } else {
      i++;
    }
  }
  return end;
}

const quoted = (s: string, max = 40) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/** A field key under one measurement+tags prefix, resolved once: its series key, or why it has none. */
interface FieldKey {
  /** The field key unescaped, as error messages name it. */
  name: string;
  series: string;
  /** Why the field can name no series (its readings are refused); '' when it can. */
  problem: string;
  tags: Readonly<Record<string, string>>;
  announced: boolean;
  /** `keyId` in the batch of generation `gen` (a batch lookup saved per reading). */
  gen: number;
  keyId: number;
}

/** What a line's `measurement,tags` part (as written, escapes and all) resolves to. */
interface SeriesPrefix {
  /** `<measurement>/<series tag values>`, sanitised. */
  base: string;
  tags: Readonly<Record<string, string>>;
  fields: Map<string, FieldKey>;
}

/**
 * Streams InfluxDB line protocol into batches, keeping good lines and recording bad ones by line
 * number (1-based; blank and comment lines count but are not errors). String fields are left out
 * without an error (Wattline stores numbers); a field refused on its own (an integer beyond ±2^53, a
 * name that cannot make a series key) is named, the line's other fields kept. Memory stays bounded by batch size × batches in flight.
 */
export class LineProtocolReadings extends LineStream {
  private readonly minTime: number;
  private readonly maxTime: number;
  private readonly precision: LineProtocolPrecision;
  private readonly droppedDigits: number;
  private readonly msFactor: number;
  private readonly seriesTags: readonly string[];
  /** Bumped at each batch taken, so that a FieldKey's cached keyId is known stale. */
  private gen = 0;
  private readonly prefixes = new Map<string, SeriesPrefix | string>();
  private cachedFields = 0;
  private readonly announced = new Set<string>();
  // the current line's readings, held until the line is known good (its timestamp comes last)
  private lineKeys: FieldKey[] = [];
  private lineValues: number[] = [];
  private lineCount = 0;
  /** The line's series → place in lineKeys, once it has LINE_INDEX_FROM fields. */
  private lineIndex: Map<string, number> | undefined;
  private lineFieldErrors: string[] = [];
  /** Readings of a good line not yet in the builder (the line did not fit the batch): pushed by write. */
  private pendingFrom = -1;
  private lineTs = 0;

  constructor(private readonly options: LineProtocolOptions) {
    super(options);
    this.minTime = options.minTime ?? -Infinity;
    this.maxTime = options.maxFutureMs === undefined ? Infinity : options.now + options.maxFutureMs;
    this.precision = options.precision ?? 'ns';
    this.droppedDigits = DROPPED_DIGITS[this.precision];
    this.msFactor = MS_FACTOR[this.precision];
    this.seriesTags = options.seriesTags ?? [];
  }

  protected override hasPending() {
    return this.pendingFrom >= 0;
  }

  /** Parses `text[start, end)` (one line, without its `\n`); its readings go to the batch or pending. */
  protected handleLine(text: string, start: number, end: number) {
    this.lineNo++;
    if (end > start && text.charCodeAt(end - 1) === CR) end--;
    // too long first, comment or not: a line cut across chunks is judged the same (line-stream.ts)
    if (this.isTooLong(text, start, end)) return this.rejectTooLong();
    let p = start;
    let c = 0;
    while (p < end && ((c = text.charCodeAt(p)) === SPACE || c === TAB)) p++;
    if (p === end || c === HASH) return;

    // measurement and tags: up to the first unescaped space (a space after a backslash is escaped)
    let sp = text.indexOf(' ', p);
    while (sp >= 0 && sp < end && text.charCodeAt(sp - 1) === BACKSLASH) sp = text.indexOf(' ', sp + 1);
    if (sp < 0 || sp >= end) return this.reject('missing field set');
    const rawPrefix = text.slice(p, sp);
    let prefix = this.prefixes.get(rawPrefix);
    if (prefix === undefined) {
      prefix = this.parsePrefix(rawPrefix);
      if (this.prefixes.size >= 4096 || this.cachedFields >= MAX_CACHED_FIELDS) this.clearCaches();
      this.prefixes.set(rawPrefix, prefix);
    }
    if (typeof prefix === 'string') return this.reject(prefix);

    p = sp + 1;
    while (p < end && text.charCodeAt(p) === SPACE) p++;
    if (p === end) return this.reject('missing field set');

    // fields
    this.lineCount = 0;
    this.lineIndex = undefined;
    if (this.lineFieldErrors.length > 0) this.lineFieldErrors = [];
    for (;;) {
      const keyStart = p;
      p = keyEnd(text, p, end);
      if (p === keyStart) {
        return this.reject(p === end || text.charCodeAt(p) === SPACE ? 'missing field after ","' : 'field with no key');
      }
      if (p === end || text.charCodeAt(p) !== EQUALS) {
        return this.reject(`missing "=" after field key ${quoted(unescapeName(text, keyStart, p, true))}`);
      }
      const rawKey = text.slice(keyStart, p);
      let field = prefix.fields.get(rawKey);
      if (field === undefined) {
        if (this.cachedFields >= MAX_CACHED_FIELDS) {
          this.clearCaches();
          prefix.fields.clear();
        }
        field = this.resolveField(prefix, rawKey);
        prefix.fields.set(rawKey, field);
        this.cachedFields++;
      }
      p++; // '='
      c = p < end ? text.charCodeAt(p) : SPACE;
      if (c === SPACE || c === COMMA) return this.reject(`missing value for field ${quoted(field.name)}`);
      const valueStart = p;
      let value = NaN;
      let refused = '';
      let isString = false;
      if (c === QUOTE) {
        p++;
        while (p < end && (c = text.charCodeAt(p)) !== QUOTE) p += c === BACKSLASH ? 2 : 1;
        if (p >= end) return this.reject(`unbalanced quotes in the value of field ${quoted(field.name)}`);
        p++;
        // Wattline stores numbers: a string field (Home Assistant's `state`, its `*_str`
        // attributes) is left out without an error, so collectors that send them beside their
        // numbers are not told every write failed
        isString = true;
      } else {
        while (p < end && (c = text.charCodeAt(p)) !== COMMA && c !== SPACE) p++;
        value = this.numberOrBoolean(text, valueStart, p);
        if (Number.isNaN(value)) {
          const last = text.charCodeAt(p - 1);
          if ((last === 105 || last === 117) && this.isDigits(text, valueStart, p - 1, last === 105)) {
            refused =
              `field ${quoted(field.name)} is the integer ${text.slice(valueStart, p)}, beyond ±2^53: ` +
              'Wattline stores numbers (float64) and would round it';
          } else {
            return this.reject(
              `invalid field value ${quoted(text.slice(valueStart, p))} for field ${quoted(field.name)}`,
            );
          }
        }
      }
      if (p < end && (c = text.charCodeAt(p)) !== COMMA && c !== SPACE) {
        return this.reject(
          `invalid field value ${quoted(text.slice(valueStart, p + 1))} for field ${quoted(field.name)}`,
        );
      }
      if (isString) {
        // left out (above)
      } else if (refused === '' && field.problem !== '') this.lineFieldErrors.push(field.problem);
      else if (refused !== '') this.lineFieldErrors.push(refused);
      else this.addReading(field, value);
      if (p === end || text.charCodeAt(p) === SPACE) break;
      p++; // ','
    }

    // timestamp
    while (p < end && text.charCodeAt(p) === SPACE) p++;
    let ts = this.options.now;
    if (p < end) {
      const tsStart = p;
      let negative = false;
      if (text.charCodeAt(p) === MINUS) {
        negative = true;
        p++;
      }
      const digitsStart = p;
      while (p < end && (c = text.charCodeAt(p)) >= D0 && c <= D9) p++;
      if (p === digitsStart || (p < end && c !== SPACE)) {
        while (p < end && text.charCodeAt(p) !== SPACE) p++;
        return this.reject(`invalid timestamp ${quoted(text.slice(tsStart, p))}`);
      }
      const digitsEnd = p;
      while (p < end && text.charCodeAt(p) === SPACE) p++;
      if (p < end) return this.reject(`unexpected text after the timestamp: ${quoted(text.slice(p, end))}`);
      // ns and us: all but the last 6 or 3 digits are the milliseconds, read as digits so that 19-digit
      // nanoseconds keep every millisecond (as a number they would round to 256 ns steps, and worse)
      const headEnd = digitsEnd - this.droppedDigits;
      let head = 0;
      let i = digitsStart;
      for (; i < headEnd; i++) head = head * 10 + (text.charCodeAt(i) - D0);
      let rest = false;
      for (; i < digitsEnd; i++) if (text.charCodeAt(i) !== D0) rest = true;
      ts = (negative ? (rest ? -head - 1 : -head) : head) * this.msFactor; // floor, before 1970 too
      let significant = digitsStart;
      while (significant < digitsEnd && text.charCodeAt(significant) === D0) significant++;
      // InfluxDB's timestamps are int64 (19 digits); ours are what a JS Date holds (±8.64e15 ms)
      if (digitsEnd - significant > 19 || !(ts >= -MAX_ABS_MS && ts <= MAX_ABS_MS)) {
        return this.reject(`timestamp ${text.slice(tsStart, digitsEnd)} is out of range (precision ${this.precision})`);
      }
    }
    if (!(ts >= this.minTime && ts <= this.maxTime)) return this.reject(this.timeProblem(ts));

    for (const error of this.lineFieldErrors) this.reject(error);
    const n = this.lineCount;
    if (n === 0) return;
    if (this.builder.length + n <= this.builder.capacity) {
      for (let k = 0; k < n; k++) this.push(this.lineKeys[k], ts, this.lineValues[k]);
    } else {
      this.lineTs = ts;
      this.pendingFrom = 0;
    }
  }

  /** Holds a reading of the current line; a field given twice keeps the last value, as InfluxDB. */
  /**
   * A field's reading for the line; a second one of the same series replaces the first (InfluxDB:
   * last wins). A few fields are looked through; past LINE_INDEX_FROM a map of the line's series
   * keeps a line of thousands of fields linear.
   */
  private addReading(field: FieldKey, value: number) {
    const n = this.lineCount;
    if (n < LINE_INDEX_FROM) {
      for (let k = 0; k < n; k++) {
        if (this.lineKeys[k].series === field.series) {
          this.lineValues[k] = value;
          return;
        }
      }
    } else {
      if (!this.lineIndex) {
        this.lineIndex = new Map();
        for (let k = 0; k < n; k++) this.lineIndex.set(this.lineKeys[k].series, k);
      }
      const k = this.lineIndex.get(field.series);
      if (k !== undefined) {
        this.lineValues[k] = value;
        return;
      }
      this.lineIndex.set(field.series, n);
    }
    this.lineKeys[n] = field;
    this.lineValues[n] = value;
    this.lineCount = n + 1;
  }

  /** The readings of a line that did not fit the batch, across as many batches as they need. */
  protected override async pushPending() {
    for (let k = this.pendingFrom; k < this.lineCount; k++) {
      if (this.builder.full) {
        this.pendingFrom = k;
        await this.flushBatch();
      }
      this.push(this.lineKeys[k], this.lineTs, this.lineValues[k]);
    }
    this.pendingFrom = -1;
  }

  private push(field: FieldKey, ts: number, value: number) {
    if (field.gen !== this.gen) {
      field.keyId = this.builder.keyId(field.series) ?? this.builder.addKey(field.series);
      field.gen = this.gen;
    }
    if (!field.announced) {
      field.announced = true;
      // the tags travel with the series' first reading of the body, as series meta: the
      // persistor merges them into the catalog (units.ts) once the readings are committed
      if (!this.announced.has(field.series)) {
        this.announced.add(field.series);
        if (Object.keys(field.tags).length) this.builder.setMeta(field.keyId, { tags: { ...field.tags } });
      }
    }
    this.builder.push(field.keyId, ts, value);
  }

  /** A float (`1`, `-1.5`, `1.`, `.5`, `-1e3`), an integer (`12i`, `12u`) or a boolean; NaN when none (or unsafe). */
  private numberOrBoolean(text: string, start: number, end: number): number {
    let c = text.charCodeAt(start);
    if (c === 116 || c === 84 || c === 102 || c === 70) {
      switch (text.slice(start, end)) {
        case 't':
        case 'T':
        case 'true':
        case 'True':
        case 'TRUE':
          return 1;
        case 'f':
        case 'F':
        case 'false':
        case 'False':
        case 'FALSE':
          return 0;
      }
      return NaN;
    }
    const last = text.charCodeAt(end - 1);
    if (last === 105 || last === 117) {
      // integers: InfluxDB takes int64 and uint64; a float64 holds integers exactly only up to 2^53,
      // so larger ones are refused (by the caller, naming the field) rather than stored rounded
      let i = start;
      const negative = c === MINUS && last === 105;
      if (negative) i++;
      if (i === end - 1 || end - 1 - i > 16) return NaN;
      let n = 0;
      for (; i < end - 1; i++) {
        c = text.charCodeAt(i);
        if (c < D0 || c > D9) return NaN;
        n = n * 10 + (c - D0);
      }
      if (n > Number.MAX_SAFE_INTEGER) return NaN;
      return negative ? -n : n;
    }
    // floats, by the grammar: [-] ( digits [. [digits]] | . digits ) [(e|E) [+|-] digits]
    let i = start;
    const negative = c === MINUS;
    if (negative) i++;
    let mantissa = 0;
    let digits = 0;
    let fraction = 0;
    let dot = false;
    for (; i < end; i++) {
      c = text.charCodeAt(i);
      if (c >= D0 && c <= D9) {
        mantissa = mantissa * 10 + (c - D0);
        digits++;
        if (dot) fraction++;
      } else if (c === DOT && !dot) {
        dot = true;
      } else {
        break;
      }
    }
    if (digits === 0) return NaN;
    if (i === end && digits <= 15) {
      // exact: an integer below 2^53 over an exact power of ten rounds once, as Number() does
      const v = fraction === 0 ? mantissa : mantissa / POW10[fraction];
      return negative ? -v : v;
    }
    if (i < end) {
      if (c !== 101 && c !== 69) return NaN;
      i++;
      if (i < end && ((c = text.charCodeAt(i)) === PLUS || c === MINUS)) i++;
      if (i === end) return NaN;
      for (; i < end; i++) if ((c = text.charCodeAt(i)) < D0 || c > D9) return NaN;
    }
    const v = Number(text.slice(start, end));
    return Number.isFinite(v) ? v : NaN;
  }

  private isDigits(text: string, start: number, end: number, signed: boolean): boolean {
    if (signed && text.charCodeAt(start) === MINUS) start++;
    if (start >= end) return false;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < D0 || c > D9) return false;
    }
    return true;
  }

  /** `measurement[,tag=value…]` (as written) → its series base and tags, or why the line is refused. */
  private parsePrefix(raw: string): SeriesPrefix | string {
    const end = raw.length;
    let p = 0;
    while (p < end) {
      const c = raw.charCodeAt(p);
      if (c === COMMA) break;
      p +=
        c === BACKSLASH && p + 1 < end && (raw.charCodeAt(p + 1) === COMMA || raw.charCodeAt(p + 1) === SPACE) ? 2 : 1;
    }
    if (p === 0) return 'missing measurement';
    const measurement = unescapeName(raw, 0, p, false);
    const entries: [string, string][] = [];
    while (p < end) {
      p++; // ','
      const keyStart = p;
      p = keyEnd(raw, p, end);
      if (p === keyStart) return 'empty tag key';
      const key = unescapeName(raw, keyStart, p, true);
      if (p === end || raw.charCodeAt(p) !== EQUALS) return `missing "=" after tag key ${quoted(key)}`;
      const valueStart = ++p;
      p = keyEnd(raw, p, end);
      if (p < end && raw.charCodeAt(p) === EQUALS) return `unescaped "=" in the value of tag ${quoted(key)}`;
      if (p === valueStart) return `tag ${quoted(key)} has no value`;
      entries.push([key, unescapeName(raw, valueStart, p, true)]);
    }
    // a later tag of the same key wins; fromEntries makes `__proto__` an ordinary key
    const tags = Object.freeze(Object.fromEntries(entries)) as Readonly<Record<string, string>>;

    const clean = sanitize(measurement);
    let first = 0;
    while (first < clean.length && !isAlnum(clean.charCodeAt(first))) first++;
    if (first === clean.length) return `measurement ${quoted(measurement)} has no letter or digit to name a series by`;
    let base = clean.slice(first);
    for (const key of this.seriesTags) {
      const value = Object.hasOwn(tags, key) ? tags[key] : undefined;
      if (value !== undefined) base += `/${sanitize(value)}`;
    }
    return { base, tags, fields: new Map() };
  }

  private resolveField(prefix: SeriesPrefix, rawKey: string): FieldKey {
    const name = unescapeName(rawKey, 0, rawKey.length, true);
    const series = `${prefix.base}/${sanitize(name)}`;
    const problem =
      series.length > MAX_SERIES_LENGTH
        ? `series key ${quoted(series)} of field ${quoted(name)} is longer than ${MAX_SERIES_LENGTH} characters`
        : '';
    return { name, series, problem, tags: prefix.tags, announced: false, gen: -1, keyId: 0 };
  }

  private clearCaches() {
    this.prefixes.clear();
    this.cachedFields = 0;
  }

  /** Why a reading's time is refused: outside `ingest.minTime` … now + `ingest.maxFutureMs`. */
  private timeProblem(ts: number): string {
    const when = new Date(ts).toISOString();
    if (ts < this.minTime)
      return `timestamp ${when} is before ${new Date(this.minTime).toISOString()} (ingest.minTime)`;
    const days = Math.round(((this.options.maxFutureMs ?? 0) / DAY_MS) * 100) / 100;
    return `timestamp ${when} is more than ${days} days in the future (ingest.maxFutureMs)`;
  }

  /** Whether `text[start, end)` is longer than `maxLineBytes` in UTF-8 (not in characters). */
  /** A FieldKey's cached key id belongs to the batch just taken. */
  protected override onBatchTaken() {
    this.gen++;
  }
}
