import { BatchCollector } from './batches.js';
import { createLocalClock, formatWall, type LocalClock, wallClockMs } from './local-time.js';
import { checkSeriesPrefix, detach, keySegment, seriesKey } from './series-key.js';
import { feedLines, type LineReader } from './lines.js';
import { FileRejected, type ParsedFile, type ParseOptions, type ParsedSeries } from './types.js';

/**
 * Delimited load curves (CSV, semicolon, tab or space separated), whose layout is sniffed from the
 * first lines: `#`/`//` comments before the header are metadata (`# key: value`, `# key = value`),
 * an optional header names the columns, one column (or a date column and a time column) holds the
 * time, every other column is a series (see `readLayout`). A row's time is its reading's ts as
 * written (no shift to an interval start: the file does not say which end it labels).
 */

/** Lines looked at to choose the delimiter and the layout. */
const SAMPLE_LINES = 20;
/** Distinct steps kept per series to find its interval; more than this and it is not regular. */
const MAX_DISTINCT_STEPS = 1000;

type Delimiter = '\t' | ';' | ',' | ' ';
// tab and semicolon first: a semicolon file's decimal commas (`1,5`) would also split on commas
const DELIMITERS: Delimiter[] = ['\t', ';', ',', ' '];
const DELIMITER_NAMES: Record<Delimiter, string> = { '\t': 'tab', ';': 'semicolon', ',': 'comma', ' ': 'spaces' };

const TIME_NAMES = /^(time|timestamp|date|datetime|date_time|ts|time_stamp|datetime_utc|timestamp_utc|hora|data)$/;
const METER_NAMES = /^(meter|meter_?id|meter_?point|meter_?point_?(code|id)|mpan|mprn|cups|ean)$/;

const DATE_YMD = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/;
const DATE_DMY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const TIME_OF_DAY = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EPOCH_S = /^\d{10}$/;
const EPOCH_MS = /^\d{13}$/;
const NUMBER_DOT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NUMBER_COMMA = /^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$/;

const TIME_FORMATS =
  'ISO 8601 (with or without an offset), YYYY-MM-DD HH:MM[:SS], DD/MM/YYYY HH:MM[:SS], YYYY/MM/DD HH:MM, ' +
  'or epoch seconds (10 digits) or milliseconds (13)';

/** A time field read: an instant, or a local wall-clock time to place in the file's zone. */
type TimeValue = { utcMs: number } | { wallMs: number } | { problem: string };

interface ValueColumn {
  index: number;
  name: string;
  segment: string;
  unit: ParsedSeries['unit'];
}

interface Layout {
  delimiter: Delimiter;
  decimalComma: boolean;
  fields: number;
  /** The time column, and the time-of-day column when a date column and a time column are split. */
  timeIndex: number;
  timeOfDayIndex: number;
  timeName: string;
  meterIndex: number;
  values: ValueColumn[];
  /** Line of the row the layout was read from, for messages. */
  modelLine: number;
}

interface SeriesState {
  series: ParsedSeries;
  lastTs: number;
  /** Steps between consecutive readings (ms → count); null once irregular. */
  steps: Map<number, number> | null;
}

interface Line {
  text: string;
  line: number;
}

/**
 * Reads the lines of a delimited file (decoded, line ends removed; a leading BOM is dropped) into
 * readings. Throws FileRejected naming the line for a value or time it cannot read, a row with the
 * wrong number of fields, or a file whose layout it cannot find.
 */
export function parseDelimited(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ParseOptions,
): Promise<ParsedFile> {
  return feedLines(createDelimitedReader(options), lines);
}

/** `parseDelimited` one line at a time, for callers that split the lines themselves. */
export function createDelimitedReader(options: ParseOptions): LineReader {
  checkSeriesPrefix(options.seriesPrefix);
  const clock = createLocalClock(options.zone);
  const out = new BatchCollector(options.batchRows);
  const metadata: Record<string, string> = {};
  const states = new Map<string, SeriesState>();
  // per meter (or the whole file): the last instant read, to place repeated local times in order
  const lastTsByMeter = new Map<string, number>();
  const sample: Line[] = [];
  let layout: Layout | undefined;
  let headerSeen = false;
  let rows = 0;
  let lineNo = 0;

  return { line, finish };

  function line(raw: string) {
    lineNo++;
    const text = (lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw).trim();
    if (text === '') return;
    if (text.startsWith('#') || text.startsWith('//')) {
      if (sample.length === 0 && !layout) readComment(text, metadata);
      return;
    }
    if (layout) {
      readRow({ text, line: lineNo });
      return;
    }
    sample.push({ text, line: lineNo });
    if (sample.length === SAMPLE_LINES) startRows();
  }

  function finish(): ParsedFile {
    if (!layout) {
      if (sample.length === 0) throw new FileRejected(0, 'no header or data rows');
      startRows();
    }
    for (const state of states.values()) state.series.intervalS = intervalS(state);
    const { batches, series } = out.finish();
    return { format: 'delimited', batches, rows, series, metadata };
  }

  function startRows() {
    const found = readLayout(sample);
    headerSeen = found.header;
    layout = found.layout;
    for (const line of sample.slice(headerSeen ? 1 : 0)) readRow(line);
  }

  function readRow({ text, line }: Line) {
    const l = layout!;
    const fields = splitFields(text, l.delimiter);
    if (fields.length !== l.fields)
      throw new FileRejected(
        line,
        `row has ${fields.length} fields separated by ${DELIMITER_NAMES[l.delimiter]}; expected ${l.fields} as on line ${l.modelLine}`,
      );
    rows++;
    const meter = l.meterIndex >= 0 ? fields[l.meterIndex]! : '';
    if (l.meterIndex >= 0 && keySegment(meter) === '')
      throw new FileRejected(line, `meter "${meter}" has no letters or digits to name its series`);
    const rawTime = l.timeOfDayIndex >= 0 ? `${fields[l.timeIndex]} ${fields[l.timeOfDayIndex]}` : fields[l.timeIndex]!;
    const ts = resolveTime(readTime(rawTime), rawTime, meter, line, l.timeName, clock);
    for (const column of l.values) {
      const cell = fields[column.index]!;
      if (cell === '') continue; // a missing reading, not an error
      const value = readNumber(cell, l.decimalComma);
      if (Number.isNaN(value))
        throw new FileRejected(line, `value "${cell.slice(0, 40)}" in column "${column.name}" is not a number`);
      const state = seriesState(column, meter, line);
      trackStep(state, ts);
      out.push(state.series.key, ts, value);
    }
  }

  function resolveTime(time: TimeValue, raw: string, meter: string, line: number, name: string, c: LocalClock) {
    if ('problem' in time)
      throw new FileRejected(line, `time "${raw.slice(0, 40)}" in column "${name}" ${time.problem}`);
    const last = lastTsByMeter.get(meter) ?? -Infinity;
    let ts: number;
    if ('utcMs' in time) ts = time.utcMs;
    else {
      const found = c.toUtc(time.wallMs);
      if (found.length === 0)
        throw new FileRejected(
          line,
          `local time ${formatWall(time.wallMs)} does not exist in ${c.zone} (clocks go forward)`,
        );
      // in the hour clocks go back, a repeated local time is the later instant the second time
      ts = found.find((t) => t > last) ?? found[0]!;
    }
    lastTsByMeter.set(meter, ts);
    return ts;
  }

  function seriesState(column: ValueColumn, meter: string, line: number): SeriesState {
    const id = `${meter}\u0000${column.index}`;
    let state = states.get(id);
    if (!state) {
      meter = detach(meter);
      const segments = meter === '' ? [column.segment] : [keySegment(meter), column.segment];
      const key = seriesKey(options.seriesPrefix, segments, line);
      const energy = column.unit === 'kWh' || column.unit === 'Wh';
      const series: ParsedSeries = {
        key,
        unit: column.unit,
        kind: energy ? 'interval' : 'gauge',
        intervalS: null,
        meterPoint: meter === '' ? null : meter,
      };
      out.addSeries(series);
      state = { series, lastTs: Number.NaN, steps: energy ? new Map() : null };
      states.set(detach(id), state);
    }
    return state;
  }
}

/** `# key: value` or `# key = value` (also after `//`) into metadata; other comments are ignored. */
function readComment(text: string, metadata: Record<string, string>) {
  const body = text.replace(/^(#+|\/\/+)/, '').trim();
  const m = /^([^:=]+?)\s*[:=]\s*(.*)$/.exec(body);
  if (m) metadata[detach(m[1]!)] = detach(m[2]!);
}

/**
 * The delimiter, header and columns, from the first lines. The delimiter is the first of tab,
 * semicolon, comma and spaces that splits every sampled row into the same number (≥ 2) of fields and
 * makes the first data row read as a time plus numbers; failing that, the first that gives a time.
 * The first line is a header when none of its fields is a number or a time. The time column is the
 * one a header calls time/timestamp/date/datetime/ts, else the first that reads as a time; a date
 * column followed by a time-of-day column count as one. With spaces as delimiter, a header may name
 * such a pair once (`timestamp kWh` over `2024-03-01 00:15 1.5`).
 */
function readLayout(sample: Line[]): { header: boolean; layout: Layout } {
  const attempts: { layout: Layout; header: boolean; clean: boolean }[] = [];
  for (const delimiter of DELIMITERS) {
    const attempt = tryDelimiter(sample, delimiter);
    if (attempt) {
      if (attempt.clean) return attempt;
      attempts.push(attempt);
    }
  }
  if (attempts.length > 0) return attempts[0]!;
  // a bad row among the first ones spoils every delimiter: read the layout from the first two lines,
  // so that row is then refused with its own line number
  if (sample.length > 2) {
    try {
      return readLayout(sample.slice(0, 2));
    } catch {
      // the whole sample could not be read either: report that
    }
  }
  const first = sample[0]!;
  throw new FileRejected(
    first.line,
    `cannot find the columns: no delimiter (tab, semicolon, comma or spaces) splits the first rows into the same number of fields with a time column (${TIME_FORMATS})`,
  );
}

function tryDelimiter(
  sample: Line[],
  delimiter: Delimiter,
): { layout: Layout; header: boolean; clean: boolean } | undefined {
  const decimalComma = delimiter !== ',';
  const rows = sample.map((line) => splitFields(line.text, delimiter));
  const header = !rows[0]!.some((f) => isNumber(f, decimalComma) || isTimeLike(f));
  const names = header ? rows[0]!.map((name) => detach(unquote(name))) : undefined;
  const data = header ? rows.slice(1) : rows;
  const modelLine = header ? sample[1]?.line : sample[0]!.line;
  if (data.length === 0 || modelLine === undefined) {
    // a header alone: a file with no readings yet; its layout does not matter
    if (!names || names.length < 2) return undefined;
    return {
      header: true,
      clean: true,
      layout: {
        delimiter,
        decimalComma,
        fields: names.length,
        timeIndex: 0,
        timeOfDayIndex: -1,
        timeName: names[0]!,
        meterIndex: -1,
        values: [],
        modelLine: sample[0]!.line,
      },
    };
  }
  const fields = data[0]!.length;
  if (fields < 2 || data.some((row) => row.length !== fields)) return undefined;
  if (names && names.length !== fields && !(delimiter === ' ' && names.length === fields - 1)) return undefined;

  const model = data[0]!;
  const time = findTimeColumn(model, names, fields);
  if (!time) return undefined;
  // names[k] for data column k, when the header names a date-and-time pair once
  const nameOf = (k: number): string | undefined => {
    if (!names) return undefined;
    if (names.length === fields) return names[k];
    return k <= time.index ? names[k] : names[k - 1];
  };
  if (names && names.length !== fields && time.timeOfDay < 0) return undefined;

  const meterIndex = names ? model.findIndex((_, k) => METER_NAMES.test(normalName(nameOf(k) ?? ''))) : -1;
  const values: ValueColumn[] = [];
  const segments = new Set<string>();
  for (let k = 0; k < fields; k++) {
    if (k === time.index || k === time.timeOfDay || k === meterIndex) continue;
    const n = values.length + 1;
    const fallback = n === 1 ? 'value' : `value${n}`;
    const name = nameOf(k) || fallback;
    let segment = keySegment(name) || fallback;
    for (let i = 2; segments.has(segment); i++) segment = `${keySegment(name) || fallback}_${i}`;
    segments.add(segment);
    values.push({ index: k, name, segment, unit: unitOf(name) });
  }
  if (values.length === 0) return undefined;
  const clean = data.every((row) => values.every((v) => row[v.index] === '' || isNumber(row[v.index]!, decimalComma)));
  return {
    header: names !== undefined,
    clean,
    layout: {
      delimiter,
      decimalComma,
      fields,
      timeIndex: time.index,
      timeOfDayIndex: time.timeOfDay,
      timeName:
        (time.timeOfDay >= 0 && names?.length === fields
          ? `${nameOf(time.index)} ${nameOf(time.timeOfDay)}`
          : nameOf(time.index)) ?? 'time',
      meterIndex,
      values,
      modelLine,
    },
  };
}

function findTimeColumn(
  row: string[],
  names: string[] | undefined,
  fields: number,
): { index: number; timeOfDay: number } | undefined {
  const found: { index: number; timeOfDay: number }[] = [];
  for (let k = 0; k < row.length; k++) {
    if (!('problem' in readTime(row[k]!))) found.push({ index: k, timeOfDay: -1 });
    else if (isDate(row[k]!) && k + 1 < row.length && TIME_OF_DAY.test(row[k + 1]!))
      found.push({ index: k, timeOfDay: k + 1 });
  }
  if (names) {
    const spans = names.length !== fields;
    const named = found.find((f) => TIME_NAMES.test(normalName(names[f.index] ?? '')) && (!spans || f.timeOfDay >= 0));
    if (named) return named;
  }
  return found[0];
}

/** The unit a column name states, as a word of its own: `Energy (kWh)`, `power_W`, `consumption kWh`. */
function unitOf(name: string): ParsedSeries['unit'] {
  for (const word of name.split(/[^A-Za-z]+/)) {
    // case does not separate these four; the letters do (`KWH` is kWh, `w` is W)
    switch (word.toLowerCase()) {
      case 'kwh':
        return 'kWh';
      case 'wh':
        return 'Wh';
      case 'kw':
        return 'kW';
      case 'w':
        return 'W';
    }
  }
  return null;
}

function normalName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** Fields of a row: runs of spaces for ` `; otherwise split on the delimiter, honouring "quotes". */
function splitFields(text: string, delimiter: Delimiter): string[] {
  if (delimiter === ' ') return text.split(/\s+/);
  if (!text.includes('"')) return text.split(delimiter).map((f) => f.trim());
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      fields.push(field.trim());
      field = '';
    } else field += c;
  }
  fields.push(field.trim());
  return fields;
}

function unquote(name: string): string {
  return name.replace(/^"(.*)"$/, '$1').trim();
}

function isNumber(text: string, decimalComma: boolean): boolean {
  return (decimalComma ? NUMBER_COMMA : NUMBER_DOT).test(text);
}

/** A number, with a decimal comma when the delimiter is not a comma; NaN when it is none. */
function readNumber(text: string, decimalComma: boolean): number {
  if (!isNumber(text, decimalComma)) return Number.NaN;
  return Number(decimalComma ? text.replace(',', '.') : text);
}

function isDate(text: string): boolean {
  return DATE_YMD.test(text) || DATE_DMY.test(text);
}

/** A field that looks like a time or a date, even a wrong one (to tell a header from data). */
function isTimeLike(text: string): boolean {
  return isDate(text) || TIME_OF_DAY.test(text) || !('problem' in readTime(text));
}

/** A timestamp in one of TIME_FORMATS; a date and a time of day joined by one space count too. */
function readTime(text: string): TimeValue {
  if (EPOCH_S.test(text)) return { utcMs: Number(text) * 1000 };
  if (EPOCH_MS.test(text)) return { utcMs: Number(text) };
  const cut = text.search(/[T ]/);
  if (cut < 0) return { problem: `is not a time: expected ${TIME_FORMATS}` };
  const datePart = text.slice(0, cut);
  const timePart = text.slice(cut + 1);
  const ymd = DATE_YMD.exec(datePart);
  const dmy = ymd ? null : DATE_DMY.exec(datePart);
  const t = TIME_OF_DAY.exec(timePart);
  if ((!ymd && !dmy) || !t) return { problem: `is not a time: expected ${TIME_FORMATS}` };
  const [year, month, day] = ymd
    ? [Number(ymd[1]), Number(ymd[2]), Number(ymd[3])]
    : [Number(dmy![3]), Number(dmy![2]), Number(dmy![1])];
  const [, hh, mm, ss, fraction, zone] = t;
  const wall = wallClockMs(
    year,
    month,
    day,
    Number(hh),
    Number(mm),
    ss === undefined ? 0 : Number(ss),
    fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0')),
  );
  if (typeof wall === 'string') return { problem: `is not a real time: ${wall}` };
  if (zone === undefined) return { wallMs: wall };
  if (zone.toUpperCase() === 'Z') return { utcMs: wall };
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetH = Number(digits.slice(0, 2));
  const offsetM = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (offsetH > 23 || offsetM > 59) return { problem: `has an offset ${zone} that does not exist` };
  return { utcMs: wall - sign * (offsetH * 60 + offsetM) * 60_000 };
}

function trackStep(state: SeriesState, ts: number) {
  const steps = state.steps;
  if (steps && !Number.isNaN(state.lastTs)) {
    const step = ts - state.lastTs;
    if (step <= 0) state.steps = null;
    else {
      steps.set(step, (steps.get(step) ?? 0) + 1);
      if (steps.size > MAX_DISTINCT_STEPS) state.steps = null;
    }
  }
  state.lastTs = ts;
}

/**
 * An energy series' interval: the median step between its readings, in seconds, when every step is
 * a whole number of them (missing readings leave gaps, not a different grid); null otherwise.
 */
function intervalS(state: SeriesState): number | null {
  if (!state.steps || state.steps.size === 0) return null;
  const sorted = [...state.steps.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((sum, [, count]) => sum + count, 0);
  let seen = 0;
  let median = sorted[0]![0];
  for (const [step, count] of sorted) {
    seen += count;
    median = step;
    if (seen * 2 >= total) break;
  }
  if (median % 1000 !== 0 || sorted.some(([step]) => step % median !== 0)) return null;
  return median / 1000;
}
