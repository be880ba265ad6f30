import fs from 'node:fs';
import path from 'node:path';
import { createDelimitedReader } from './delimited.js';
import { readFileLines } from './lines.js';
import { createSglReader, DETAIL_MIN_LENGTH, SGL_RECORD_LENGTH } from './sgl.js';
import type { ParsedFile, ParseOptions } from './types.js';

export { parseDelimited } from './delimited.js';
export { parseSgl } from './sgl.js';
export type { ParsedFile, ParsedSeries, ParseOptions } from './types.js';
export { FileRejected } from './types.js';

/** Bytes read to sniff a file's format: more than one sgl_v2 record with its line end. */
const SNIFF_BYTES = 256;

/**
 * Reads a load-curve file into readings: `.sgl_v2` fixed-width records (ISO-8859-1) or delimited
 * text (UTF-8, optional BOM), told apart by content (a first line of `00` + entity + YYYYMMDD, at
 * most 100 characters, is sgl_v2) with the `.sgl_v2` extension deciding for sgl_v2. The file is read
 * as a stream of lines, so memory grows with the readings (~20 bytes each), not the file.
 * Throws FileRejected (a 400, `file_rejected`, with the line) when the file cannot be used.
 *
 * @example parseFile('/drops/LC_20240615.sgl_v2', { zone: 'Europe/Lisbon', seriesPrefix: 'files' })
 */
export async function parseFile(file: string, options: ParseOptions & { name?: string }): Promise<ParsedFile> {
  // `name`: the file's own name where `file` is a temporary copy (its extension still decides)
  const format = sniffFormat(options.name ?? file, await firstBytes(file));
  if (format !== 'sgl_v2') return readFileLines(file, 'utf8', createDelimitedReader(options));
  // A record is a line of at least DETAIL_MIN_LENGTH characters, so the file's size bounds its
  // readings: one batch of that many rows holds them all, with no joining of parts before the store
  // (the joined copy cost as much memory as the readings). Pages of the arrays never written are
  // never made resident, so the bound's slack costs address space, not memory.
  const { size } = await fs.promises.stat(file);
  const batchRows = options.batchRows ?? Math.max(1, Math.ceil(size / (DETAIL_MIN_LENGTH + 1)));
  return readFileLines(file, 'latin1', createSglReader({ ...options, batchRows }));
}

/** Which parser reads a file, from its name and first bytes. */
export function sniffFormat(file: string, head: Buffer): ParsedFile['format'] {
  if (path.extname(file).toLowerCase() === '.sgl_v2') return 'sgl_v2';
  const end = head.indexOf(0x0a);
  const first = head
    .subarray(0, end < 0 ? head.length : end)
    .toString('latin1')
    .trimEnd();
  return /^00.{20}\d{8}\d/.test(first) && first.length <= SGL_RECORD_LENGTH ? 'sgl_v2' : 'delimited';
}

async function firstBytes(file: string): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
