import { BatchCollector } from './batches.js';
import { createLocalClock, formatWall, wallClockMs } from './local-time.js';
import { checkSeriesPrefix, detach, keySegment, seriesKey } from './series-key.js';
import { feedLines, type LineReader } from './lines.js';
import { FileRejected, type ParsedFile, type ParseOptions } from './types.js';

/**
 * `.sgl_v2` load curves (SEEDS §3): fixed-width records of 100 characters, ISO-8859-1, as a public
 * converter writes them (positions 0-based):
 *
 *   00 header   2–21 entity (space padded), 22–29 file date YYYYMMDD, 30– sequence (digits)
 *   20 detail   2–21 meter point code, 22–29 date YYYYMMDD, 30–33 time HHMM (the END of a 15-minute
 *               interval, local time), 34–43 energy in kWh × 100 (10 digits), 44– reading type
 *   99 trailer  `TOTAL` (padded), then the number of 20 records
 *
 * No sample file is public, so the reader is strict: anything it does not understand rejects the file
 * with the line and the reason, rather than storing a guess.
 */
export const SGL_RECORD_LENGTH = 100;

const INTERVAL_MS = 15 * 60_000;
// a detail record up to its energy field; the reading type after it may be missing (trimmed spaces)
export const DETAIL_MIN_LENGTH = 44;
const HEADER_MIN_LENGTH = 31;

/**
 * The reading type that keys a meter point's series on its own (`files/<mp>`): `A`, active energy
 * imported, what a load curve is for. Every other type gets its own series (`files/<mp>/<type>`).
 * A rule on the type itself rather than on "the first type in the file", so a file that carries only
 * reactive readings never lands in the series another file filled with active ones.
 */
const PLAIN_TYPE = 'A';

interface MeterSeries {
  key: string;
  /** End of the last interval read (UTC ms) and its line, to order repeated local times. */
  lastEndTs: number;
  lastLine: number;
}

/**
 * Reads the lines of an `.sgl_v2` file (decoded as latin1; line ends removed) into readings: one
 * series per meter point and reading type, unit kWh, kind interval, 900 s, each reading at its
 * interval's START (UTC epoch ms). Throws FileRejected naming the line for any record it cannot read.
 */
export function parseSgl(lines: AsyncIterable<string> | Iterable<string>, options: ParseOptions): Promise<ParsedFile> {
  return feedLines(createSglReader(options), lines);
}

/** `parseSgl` one line at a time, for callers that split the lines themselves. */
export function createSglReader(options: ParseOptions): LineReader {
  checkSeriesPrefix(options.seriesPrefix);
  const clock = createLocalClock(options.zone);
  const out = new BatchCollector(options.batchRows);
  // by meter point and reading type, and by key: types sharing a key share one time order
  const meters = new Map<string, MeterSeries>();
  const byKey = new Map<string, MeterSeries>();
  const metadata: Record<string, string> = {};
  let lineNo = 0;
  let headerLine = 0;
  let trailerLine = 0;
  let lastRecordLine = 0;
  let details = 0;

  return { line, finish };

  function line(text: string) {
    lineNo++;
    // trailing spaces may have been trimmed by whoever moved the file, and CRLF is common
    const record = text.trimEnd();
    if (record === '') return;
    if (record.length > SGL_RECORD_LENGTH)
      throw new FileRejected(
        lineNo,
        `record is ${record.length} characters long; records are at most ${SGL_RECORD_LENGTH}`,
      );
    if (trailerLine > 0)
      throw new FileRejected(lineNo, `record after the trailer (99) on line ${trailerLine}; the trailer ends the file`);
    lastRecordLine = lineNo;
    const type = record.slice(0, 2);
    if (headerLine === 0 && type !== '00')
      throw new FileRejected(
        lineNo,
        `missing header: the file must start with a 00 record (got "${record.slice(0, 30)}")`,
      );

    if (type === '00') {
      if (headerLine > 0) throw new FileRejected(lineNo, `second header (00); the header is on line ${headerLine}`);
      if (record.length < HEADER_MIN_LENGTH)
        throw new FileRejected(
          lineNo,
          `header is ${record.length} characters long; it needs entity (20), date (8) and a sequence`,
        );
      headerLine = lineNo;
      metadata.entity = detach(record.slice(2, 22).trim());
      const date = record.slice(22, 30);
      const ymd = digits(record, 22, 30, 'header date', lineNo);
      const problem = wallClockMs(Math.floor(ymd / 10_000), Math.floor(ymd / 100) % 100, ymd % 100, 0, 0);
      if (typeof problem === 'string')
        throw new FileRejected(lineNo, `header date ${date} is not a real date: ${problem}`);
      metadata.date = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}`;
      const sequence = record.slice(30).trim();
      if (!/^\d+$/.test(sequence))
        throw new FileRejected(lineNo, `header sequence must be digits (got "${sequence}" at columns 31–100)`);
      metadata.sequence = detach(sequence);
    } else if (type === '20') {
      details++;
      readDetail(record, lineNo);
    } else if (type === '99') {
      trailerLine = lineNo;
      const body = record.slice(2).trim();
      if (!body.startsWith('TOTAL'))
        throw new FileRejected(lineNo, `trailer must read 99, TOTAL and the record count (got "${record}")`);
      const count = body.slice(5).trim();
      if (!/^\d+$/.test(count)) throw new FileRejected(lineNo, `trailer record count must be digits (got "${count}")`);
      if (Number(count) !== details)
        throw new FileRejected(
          lineNo,
          `trailer counts ${Number(count)} detail records but the file holds ${details}; it may be truncated`,
        );
    } else {
      throw new FileRejected(
        lineNo,
        `unknown record type "${type}": expected 00 (header), 20 (detail) or 99 (trailer)`,
      );
    }
  }

  function finish(): ParsedFile {
    if (headerLine === 0) throw new FileRejected(0, 'empty file: expected a 00 header, 20 details and a 99 trailer');
    if (trailerLine === 0)
      throw new FileRejected(
        0,
        `missing trailer: no 99 TOTAL record after the last record (line ${lastRecordLine}); the file may be truncated`,
      );
    const { batches, series } = out.finish();
    return { format: 'sgl_v2', batches, rows: details, series, metadata };
  }

  function readDetail(record: string, line: number) {
    if (record.length < DETAIL_MIN_LENGTH)
      throw new FileRejected(
        line,
        `detail record is ${record.length} characters long; it needs meter point (20), date (8), time (4) and energy (10)`,
      );
    const meterPoint = record.slice(2, 22).trim();
    if (meterPoint === '') throw new FileRejected(line, 'detail record has no meter point code (columns 3–22)');
    const ymd = digits(record, 22, 30, 'date', line);
    const hhmm = digits(record, 30, 34, 'time', line);
    const [year, month, day] = [Math.floor(ymd / 10_000), Math.floor(ymd / 100) % 100, ymd % 100];
    const [hour, minute] = [Math.floor(hhmm / 100), hhmm % 100];
    const energyKwh = digits(record, 34, 44, 'energy', line) / 100;
    const readingType = record.slice(44).trim();

    const written = `${record.slice(22, 30)} ${record.slice(30, 34)}`;
    const wall = wallClockMs(year, month, day, hour, minute);
    if (typeof wall === 'string') throw new FileRejected(line, `date and time ${written} is not a real time: ${wall}`);
    if (minute % 15 !== 0)
      throw new FileRejected(
        line,
        `time ${record.slice(30, 34)} is no end of a 15-minute interval (:00, :15, :30, :45)`,
      );
    const ends = clock.toUtc(wall);
    if (ends.length === 0)
      throw new FileRejected(
        line,
        `local time ${formatWall(wall)} does not exist in ${clock.zone} (clocks go forward)`,
      );

    const meter = meterSeries(meterPoint, readingType, line);
    // in the hour clocks go back, the same local time comes twice: the first is the earlier instant
    const endTs = ends.find((ts) => ts > meter.lastEndTs) ?? ends[0]!;
    if (endTs <= meter.lastEndTs)
      throw new FileRejected(
        line,
        `interval ending ${formatWall(wall)} of meter point ${meterPoint} is not after the one on line ${meter.lastLine}; ` +
          'a meter point’s records must be in time order, each interval once',
      );
    meter.lastEndTs = endTs;
    meter.lastLine = line;
    out.push(meter.key, endTs - INTERVAL_MS, energyKwh);
  }

  function meterSeries(meterPoint: string, readingType: string, line: number): MeterSeries {
    const id = `${meterPoint}\u0000${readingType}`;
    let meter = meters.get(id);
    if (!meter) {
      meterPoint = detach(meterPoint);
      const segment = keySegment(meterPoint);
      if (segment === '') throw new FileRejected(line, `meter point code "${meterPoint}" has no letters or digits`);
      const segments =
        readingType === PLAIN_TYPE || readingType === '' ? [segment] : [segment, keySegment(readingType) || 'type'];
      const key = seriesKey(options.seriesPrefix, segments, line);
      meter = byKey.get(key);
      if (!meter) {
        out.addSeries({ key, unit: 'kWh', kind: 'interval', intervalS: 900, meterPoint });
        meter = { key, lastEndTs: -Infinity, lastLine: 0 };
        byKey.set(key, meter);
      }
      meters.set(detach(id), meter);
    }
    return meter;
  }
}

/** The number in columns [start, end) of a record, or FileRejected naming the field and columns. */
function digits(record: string, start: number, end: number, field: string, line: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = record.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9))
      throw new FileRejected(
        line,
        `${field} must be digits in columns ${start + 1}–${end} (got "${record.slice(start, end)}")`,
      );
    n = n * 10 + c;
  }
  return n;
}
