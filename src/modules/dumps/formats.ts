import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ReadingBatch } from '../../core/readings.js';
import { createIsoFormatter } from '../../core/time/timestamps.js';

export const DUMP_FORMATS = ['ndjson', 'csv', 'parquet'] as const;
export type DumpFormat = (typeof DUMP_FORMATS)[number];

/** How each format names its blob: `2026-03-29.json.gz` is the name cloud-lada's dumper used. */
export const EXTENSIONS: Record<DumpFormat, string> = { ndjson: '.json.gz', csv: '.csv.gz', parquet: '.parquet' };
export const CONTENT_TYPES: Record<DumpFormat, string> = {
  ndjson: 'application/gzip',
  csv: 'application/gzip',
  parquet: 'application/vnd.apache.parquet',
};

// rows per Parquet row group: big enough to compress well, small enough to keep memory flat
const PARQUET_ROW_GROUP = 100_000;

/**
 * The bytes of a dump in `format`, pulled chunk by chunk from `chunks` as the consumer reads:
 * nothing holds more than a chunk (or a Parquet row group) at a time. `counted` hears of every
 * chunk of readings encoded.
 */
export function encodeDump(
  format: DumpFormat,
  chunks: AsyncIterable<ReadingBatch>,
  counted: (rows: number) => void,
): Readable {
  const counting = countRows(chunks, counted);
  if (format === 'parquet') return Readable.from(parquetBytes(counting));
  const text = format === 'ndjson' ? ndjsonText(counting) : csvText(counting);
  return gzipped(Readable.from(text));
}

async function* countRows(
  chunks: AsyncIterable<ReadingBatch>,
  counted: (rows: number) => void,
): AsyncIterable<ReadingBatch> {
  for await (const chunk of chunks) {
    counted(chunk.length);
    yield chunk;
  }
}

/** cloud-lada's line shape: `{"sensor","value","timestamp"}`, the timestamp in UTC with milliseconds. */
async function* ndjsonText(chunks: AsyncIterable<ReadingBatch>): AsyncIterable<string> {
  const iso = createIsoFormatter();
  for await (const { keys, keyIndex, ts, value, length } of chunks) {
    let text = '';
    // series keys are letters, digits and _ . : / - (SERIES_KEY_PATTERN): nothing to escape
    for (let i = 0; i < length; i++)
      text += `{"sensor":"${keys[keyIndex[i]]}","value":${value[i]},"timestamp":"${iso(ts[i])}"}\n`;
    yield text;
  }
}

async function* csvText(chunks: AsyncIterable<ReadingBatch>): AsyncIterable<string> {
  const iso = createIsoFormatter();
  yield 'sensor,value,timestamp\n';
  for await (const { keys, keyIndex, ts, value, length } of chunks) {
    let text = '';
    // no key holds a comma or a quote: no quoting needed
    for (let i = 0; i < length; i++) text += `${keys[keyIndex[i]]},${value[i]},${iso(ts[i])}\n`;
    yield text;
  }
}

function gzipped(source: Readable): Transform {
  const gzip = createGzip();
  // pipeline destroys gzip with the source's error, so whoever reads the dump sees it fail
  pipeline(source, gzip).catch(() => undefined);
  return gzip;
}

/** The library writes into a growing buffer; handing its bytes on after each row group keeps it small. */
class HandingOnWriter extends ByteWriter {
  readonly written: Uint8Array[] = [];
  flush() {
    this.written.push(new Uint8Array(this.buffer.slice(0, this.index)));
    this.index = 0;
  }
}

/** One Parquet file: columns sensor (UTF-8), value (DOUBLE), timestamp (TIMESTAMP_MILLIS, UTC). */
async function* parquetBytes(chunks: AsyncIterable<ReadingBatch>): AsyncIterable<Uint8Array> {
  const writer = new HandingOnWriter();
  const out = writer.written;
  const parquet = new ParquetWriter({
    writer,
    createdBy: 'wattline',
    schema: [
      { name: 'root', num_children: 3 },
      { name: 'sensor', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'timestamp', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'REQUIRED' },
    ],
  });
  // a row group's columns, filled chunk by chunk into arrays made once
  const sensor: string[] = new Array(PARQUET_ROW_GROUP);
  const value = new Float64Array(PARQUET_ROW_GROUP);
  const ts = new Float64Array(PARQUET_ROW_GROUP);
  let rows = 0;
  const writeGroup = () => {
    parquet.write({
      columnData: [
        { name: 'sensor', data: rows === PARQUET_ROW_GROUP ? sensor : sensor.slice(0, rows) },
        { name: 'value', data: value.subarray(0, rows) },
        { name: 'timestamp', data: ts.subarray(0, rows) },
      ],
      rowGroupSize: rows,
    });
    rows = 0;
  };
  for await (const batch of chunks) {
    for (let i = 0; i < batch.length; i++) {
      sensor[rows] = batch.keys[batch.keyIndex[i]];
      value[rows] = batch.value[i];
      ts[rows] = batch.ts[i];
      if (++rows === PARQUET_ROW_GROUP) writeGroup();
    }
    yield* out.splice(0);
  }
  if (rows) writeGroup();
  parquet.finish();
  writer.flush();
  yield* out.splice(0);
}
