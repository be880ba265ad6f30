import os from 'node:os';
import { READINGS_LIVE_TOPIC, READINGS_TOPIC, type ReadingBatch, type SeriesMeta } from '../readings.js';

/**
 * How a bus that crosses processes turns a topic's messages into bytes and back. `decode` is the
 * edge: it checks what it reads and throws `CodecError` naming what is wrong.
 */
export interface Codec<T> {
  /** Carried with each message (`Wattline-Codec` header), so a reader knows the format. */
  readonly name: string;
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** Halves a message too large for one bus message; undefined when it cannot be split. */
  split?(message: T): [T, T] | undefined;
}

export class CodecError extends Error {}

/** Picks the codec of a topic: the batch codec for readings, JSON for everything else. */
export type CodecRegistry = (topic: string) => Codec<unknown>;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export const jsonCodec: Codec<unknown> = {
  name: 'json',
  encode: (message) => textEncoder.encode(JSON.stringify(message)),
  decode(bytes) {
    try {
      return JSON.parse(textDecoder.decode(bytes));
    } catch (err) {
      throw new CodecError(`message is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  },
};

// Layout, little-endian: "WRB" + version byte, u32 rows, u32 key bytes, keys as a JSON array
// (UTF-8), zero padding to a multiple of 8, then ts (f64 × rows), value (f64 × rows),
// keyIndex (i32 × rows). The f64 columns start 8-aligned so a decoder can view them in place.
// Version 2 is the same but for its JSON, `[keys, meta]` (meta: per key `{unit, kind}` or null):
// written only for a batch whose lines said something of their series, so others read as before.
const MAGIC = [0x57, 0x52, 0x42]; // "WRB"
const VERSION = 1;
const VERSION_WITH_META = 2;
const HEADER_BYTES = 12;
const align8 = (n: number) => (n + 7) & ~7;

function requireLittleEndian() {
  // the typed arrays are copied as they sit in memory; every platform Node ships for is little-endian
  if (os.endianness() !== 'LE') throw new CodecError('the reading batch codec needs a little-endian host');
}

export const readingBatchCodec: Codec<ReadingBatch> = {
  name: 'reading-batch/1',

  encode(batch) {
    requireLittleEndian();
    const rows = batch.length;
    const keys = textEncoder.encode(JSON.stringify(batch.meta ? [batch.keys, batch.meta] : batch.keys));
    const tsAt = align8(HEADER_BYTES + keys.length);
    const bytes = new Uint8Array(tsAt + rows * 20);
    bytes.set(MAGIC, 0);
    bytes[3] = batch.meta ? VERSION_WITH_META : VERSION;
    const view = new DataView(bytes.buffer);
    view.setUint32(4, rows, true);
    view.setUint32(8, keys.length, true);
    bytes.set(keys, HEADER_BYTES);
    new Float64Array(bytes.buffer, tsAt, rows).set(batch.ts.subarray(0, rows));
    new Float64Array(bytes.buffer, tsAt + rows * 8, rows).set(batch.value.subarray(0, rows));
    new Int32Array(bytes.buffer, tsAt + rows * 16, rows).set(batch.keyIndex.subarray(0, rows));
    return bytes;
  },

  decode(input) {
    requireLittleEndian();
    if (input.length < HEADER_BYTES)
      throw new CodecError(
        `reading batch is truncated: ${input.length} bytes, shorter than its ${HEADER_BYTES}-byte header`,
      );
    if (input[0] !== MAGIC[0] || input[1] !== MAGIC[1] || input[2] !== MAGIC[2])
      throw new CodecError('message is not a reading batch (bad magic bytes)');
    const version = input[3];
    if (version !== VERSION && version !== VERSION_WITH_META)
      throw new CodecError(
        `reading batch version ${version} is not supported (expected ${VERSION} or ${VERSION_WITH_META})`,
      );
    const header = new DataView(input.buffer, input.byteOffset, HEADER_BYTES);
    const rows = header.getUint32(4, true);
    const keyBytes = header.getUint32(8, true);
    const tsAt = align8(HEADER_BYTES + keyBytes);
    const expected = tsAt + rows * 20;
    if (input.length !== expected) {
      const what = input.length < expected ? 'truncated' : 'longer than its header says';
      throw new CodecError(
        `reading batch is ${what}: ${input.length} bytes, expected ${expected} for ${rows} rows and ${keyBytes} bytes of keys`,
      );
    }
    // view the columns in place when the f64 columns land 8-aligned; otherwise copy once
    // (new Uint8Array copies; Buffer#slice, which NATS payloads have, would not)
    const bytes = (input.byteOffset + tsAt) % 8 === 0 ? input : new Uint8Array(input);
    let dictionary: unknown;
    try {
      dictionary = JSON.parse(textDecoder.decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + keyBytes)));
    } catch (err) {
      throw new CodecError(`reading batch keys are not a JSON array: ${(err as Error).message}`, { cause: err });
    }
    const [keys, meta] = version === VERSION ? [dictionary, undefined] : Array.isArray(dictionary) ? dictionary : [];
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string'))
      throw new CodecError('reading batch keys must be an array of strings');
    if (
      version === VERSION_WITH_META &&
      !(Array.isArray(meta) && meta.length === keys.length && meta.every(isSeriesMetaOrNull))
    )
      throw new CodecError('reading batch meta must be an array of {unit, kind, tags} objects or nulls, one per key');
    const at = bytes.byteOffset + tsAt;
    const keyIndex = new Int32Array(bytes.buffer, at + rows * 16, rows);
    for (let i = 0; i < rows; i++) {
      const k = keyIndex[i];
      if (k < 0 || k >= keys.length)
        throw new CodecError(`reading batch row ${i} names key ${k}, but the batch has ${keys.length} keys`);
    }
    return {
      keys: keys as string[],
      keyIndex,
      ts: new Float64Array(bytes.buffer, at, rows),
      value: new Float64Array(bytes.buffer, at + rows * 8, rows),
      length: rows,
      ...(meta ? { meta: meta as (SeriesMeta | null)[] } : {}),
    };
  },

  split(batch) {
    if (batch.length < 2) return undefined;
    const half = batch.length >>> 1;
    return [sliceBatch(batch, 0, half), sliceBatch(batch, half, batch.length)];
  },
};

function isSeriesMetaOrNull(m: unknown): boolean {
  if (m === null) return true;
  if (typeof m !== 'object' || Array.isArray(m)) return false;
  const { unit, kind, tags } = m as Record<string, unknown>;
  return (
    (unit === undefined || typeof unit === 'string') &&
    (kind === undefined || typeof kind === 'string') &&
    (tags === undefined ||
      (typeof tags === 'object' &&
        tags !== null &&
        !Array.isArray(tags) &&
        Object.values(tags).every((v) => typeof v === 'string')))
  );
}

/** Rows [start, end) of a batch, with a dictionary of only the keys those rows use. */
export function sliceBatch(batch: ReadingBatch, start: number, end: number): ReadingBatch {
  const rows = end - start;
  const remap = new Int32Array(batch.keys.length).fill(-1);
  const keys: string[] = [];
  const meta: (SeriesMeta | null)[] | undefined = batch.meta ? [] : undefined;
  const keyIndex = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const k = batch.keyIndex[start + i];
    if (remap[k] < 0) {
      remap[k] = keys.push(batch.keys[k]) - 1;
      meta?.push(batch.meta![k]);
    }
    keyIndex[i] = remap[k];
  }
  const slice: ReadingBatch = {
    keys,
    keyIndex,
    ts: batch.ts.slice(start, end),
    value: batch.value.slice(start, end),
    length: rows,
  };
  if (meta) slice.meta = meta;
  return slice;
}

/** The default registry: `readingBatchCodec` for READINGS_TOPIC, `jsonCodec` for other topics. */
export const defaultCodecs: CodecRegistry = (topic) =>
  topic === READINGS_TOPIC || topic === READINGS_LIVE_TOPIC ? (readingBatchCodec as Codec<unknown>) : jsonCodec;
