import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import cliProgress from 'cli-progress';
import { parse as parseCsvSync } from 'csv-parse/sync';
import type { Client } from '../client.js';
import { ApiError, CliError } from '../client.js';

export interface IngestSummary {
  accepted: number;
  invalid: { line: number; error: string }[];
  invalidCount: number;
}

export interface IngestOptions {
  linesPerRequest: number;
  progress: boolean;
  /** `s|ms|us|ns`: how the server reads epoch numbers (sent as `?precision=`); without it, by their digits. */
  precision?: string;
  /** Lines of the file not sent (a CSV header among them is still read). */
  skip?: number;
  /** Hears, after each answered request, the last file line it held: every line up to it is acknowledged. */
  onAcknowledged?: (throughLine: number) => void;
}

interface Line {
  fileLine: number;
  text: string;
}

/**
 * Sends a file of readings — NDJSON, or CSV with a header naming its columns (else `series,ts,value`);
 * told apart by the first non-blank character, gzip by its magic bytes — in bodies of `linesPerRequest`
 * lines, retrying when the server says it is busy (503 + Retry-After). Invalid lines are reported with
 * their line number in the file; every line of the file counts, blank ones and a CSV header included.
 */
export async function ingestFile(client: Client, source: string, options: IngestOptions): Promise<IngestSummary> {
  const totalBytes = source === '-' ? 0 : fileSize(source);
  const input: Readable = source === '-' ? process.stdin : fs.createReadStream(source);
  const bar =
    options.progress && totalBytes > 0
      ? new cliProgress.SingleBar(
          { format: 'ingest [{bar}] {percentage}% | {accepted} accepted, {invalid} invalid' },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(totalBytes, 0, { accepted: 0, invalid: 0 });
  let bytesRead = 0;
  if (bar) input.on('data', (chunk: Buffer | string) => (bytesRead += chunk.length));

  const ingestPath = options.precision ? `/ingest?precision=${encodeURIComponent(options.precision)}` : '/ingest';
  const summary: IngestSummary = { accepted: 0, invalid: [], invalidCount: 0 };
  let pending: Line[] = [];
  const flush = async () => {
    if (!pending.length) return;
    const lines = pending;
    pending = [];
    const result = await postWithRetry(client, ingestPath, lines.map((l) => l.text).join('\n') + '\n');
    summary.accepted += result.accepted;
    for (const bad of result.invalid ?? [])
      summary.invalid.push({ line: lines[bad.line - 1]?.fileLine ?? bad.line, error: bad.error });
    summary.invalidCount += result.invalidCount ?? result.invalid?.length ?? 0;
    options.onAcknowledged?.(lines[lines.length - 1].fileLine);
    bar?.update(bytesRead, { accepted: summary.accepted, invalid: summary.invalidCount });
  };

  for await (const line of readingLines(textLines(await ungzipped(input)), options.skip ?? 0)) {
    pending.push(line);
    if (pending.length >= options.linesPerRequest) await flush();
  }
  await flush();
  bar?.update(totalBytes);
  bar?.stop();
  return summary;
}

/** The file's size; a file that is not there is the user's mistake, said in one line. */
function fileSize(file: string): number {
  const where = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(`no such file: ${where} (give a file of readings, or - for stdin)`);
    throw new CliError(`cannot read ${where}: ${(err as Error).message}`);
  }
  if (stat.isDirectory()) throw new CliError(`${where} is a directory (give a file of readings, or - for stdin)`);
  return stat.size;
}

/** The input's bytes, gunzipped when they start with gzip's magic bytes 1f 8b (whatever the file is called). */
async function ungzipped(input: Readable): Promise<AsyncIterable<Buffer>> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  async function* all() {
    if (head.length) yield head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return all();
  const gunzip = createGunzip();
  // a read error of the source reaches the reader through the gunzip stream
  Readable.from(all())
    .on('error', (err) => gunzip.destroy(err))
    .pipe(gunzip);
  return gunzip;
}

/** Every line of the text, blank ones included (`\n` or `\r\n` ends a line), so that line numbers are the file's. */
async function* textLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      yield text.slice(start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/**
 * The NDJSON lines to send, numbered by file line, after the first `skip` lines. The first non-blank
 * line decides the format (`{`: NDJSON, else CSV) and, in CSV, whether there is a header — even when skipped.
 */
async function* readingLines(lines: AsyncIterable<string>, skip: number): AsyncGenerator<Line> {
  let fileLine = 0;
  let csv: CsvColumns | null | undefined; // undefined: not known yet; null: NDJSON
  for await (const text of lines) {
    fileLine++;
    const trimmed = text.trim();
    if (!trimmed) continue;
    let header = false;
    if (csv === undefined) {
      csv = trimmed.startsWith('{') ? null : csvHeader(csvCells(trimmed), fileLine);
      header = csv?.header === true;
    }
    if (header || fileLine <= skip) continue;
    yield { fileLine, text: csv ? csvReading(csvCells(trimmed), csv) : text };
  }
}

interface CsvColumns {
  header: boolean;
  series: number;
  ts: number;
  value: number;
}

// the names Wattline writes (`series,ts,value`; a dump's `sensor,value,timestamp`) and obvious synonyms
const COLUMN_NAMES: Record<string, 'series' | 'ts' | 'value'> = {
  series: 'series',
  sensor: 'series',
  ts: 'ts',
  timestamp: 'ts',
  time: 'ts',
  value: 'value',
};

/** The first line is a header when it names a column; then it must name all three. */
function csvHeader(cells: string[], fileLine: number): CsvColumns {
  const names = cells.map((c) => COLUMN_NAMES[c.toLowerCase()]);
  if (!names.some(Boolean)) return { header: false, series: 0, ts: 1, value: 2 };
  const column = (role: 'series' | 'ts' | 'value') => {
    const i = names.indexOf(role);
    if (i === -1) {
      const synonyms = Object.keys(COLUMN_NAMES).filter((n) => COLUMN_NAMES[n] === role);
      throw new CliError(`line ${fileLine}: the CSV header names no ${role} column (${synonyms.join(', ')})`);
    }
    return i;
  };
  return { header: true, series: column('series'), ts: column('ts'), value: column('value') };
}

function csvCells(line: string): string[] {
  // series keys hold no comma or quote: only a line with a quote needs a CSV parser
  if (!line.includes('"')) return line.split(',').map((c) => c.trim());
  return (parseCsvSync(line, { relax_column_count: true, trim: true }) as string[][])[0] ?? [];
}

function csvReading(cells: string[], columns: CsvColumns): string {
  const value = cells[columns.value];
  // validation is the server's: a bad value becomes null and comes back as an invalid line; ts goes
  // as written, so the server reads epoch digits by their number (or by ?precision=)
  const numeric = value === undefined || value === '' ? null : Number(value);
  return JSON.stringify({ series: cells[columns.series], ts: cells[columns.ts], value: numeric });
}

async function postWithRetry(
  client: Client,
  ingestPath: string,
  body: string,
): Promise<{ accepted: number; invalid?: { line: number; error: string }[]; invalidCount?: number }> {
  for (let attempt = 0; ; attempt++) {
    const r = await client.send('POST', ingestPath, { body, contentType: 'application/x-ndjson' });
    if (r.status === 503 && attempt < 30) {
      const waitS = Number(r.headers.get('retry-after')) || 1;
      await new Promise((resolve) => setTimeout(resolve, waitS * 1000));
      continue;
    }
    if (r.status === 200 || (r.status === 400 && r.body && typeof r.body === 'object' && 'accepted' in r.body)) {
      return r.body as { accepted: number; invalid?: { line: number; error: string }[]; invalidCount?: number };
    }
    throw new ApiError(r.status, r.body);
  }
}

/** What Ctrl-C prints: the lines acknowledged and the `--skip` that resumes after them. */
export function interruptedMessage(skip: number, acknowledgedThrough: number): string {
  const count = acknowledgedThrough - skip;
  const range = count > 0 ? ` (file lines ${skip + 1}–${acknowledgedThrough})` : '';
  return `interrupted: ${count} lines acknowledged${range}; resume with --skip ${acknowledgedThrough}`;
}
