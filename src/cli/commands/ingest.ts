import fs from 'node:fs';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import cliProgress from 'cli-progress';
import type { Client } from '../client.js';
import { ApiError } from '../client.js';

export interface IngestSummary {
  accepted: number;
  invalid: { line: number; error: string }[];
  invalidCount: number;
}

interface Line {
  fileLine: number;
  text: string;
}

/**
 * Sends a file of readings — NDJSON, or CSV `series,ts,value` (a header row may name another order) — in bodies
 * of `linesPerRequest` lines, retrying when the server says it is busy (503 + Retry-After).
 * Invalid lines are reported with their line number in the file.
 */
export async function ingestFile(
  client: Client,
  source: string,
  options: { linesPerRequest: number; progress: boolean },
): Promise<IngestSummary> {
  const input: Readable = source === '-' ? process.stdin : fs.createReadStream(source);
  const totalBytes = source === '-' ? 0 : fs.statSync(source).size;
  const isCsv = source.toLowerCase().endsWith('.csv');
  const bar =
    options.progress && totalBytes > 0
      ? new cliProgress.SingleBar(
          { format: 'ingest [{bar}] {percentage}% | {accepted} accepted, {invalid} invalid' },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(totalBytes, 0, { accepted: 0, invalid: 0 });
  let bytesRead = 0;
  input.on('data', (chunk: Buffer | string) => (bytesRead += chunk.length));

  const summary: IngestSummary = { accepted: 0, invalid: [], invalidCount: 0 };
  let pending: Line[] = [];
  const flush = async () => {
    if (!pending.length) return;
    const lines = pending;
    pending = [];
    const result = await postWithRetry(client, lines.map((l) => l.text).join('\n') + '\n');
    summary.accepted += result.accepted;
    for (const bad of result.invalid ?? [])
      summary.invalid.push({ line: lines[bad.line - 1]?.fileLine ?? bad.line, error: bad.error });
    summary.invalidCount += result.invalidCount ?? result.invalid?.length ?? 0;
    bar?.update(bytesRead, { accepted: summary.accepted, invalid: summary.invalidCount });
  };

  for await (const line of isCsv ? csvLines(input) : ndjsonLines(input)) {
    pending.push(line);
    if (pending.length >= options.linesPerRequest) await flush();
  }
  await flush();
  bar?.update(totalBytes);
  bar?.stop();
  return summary;
}

async function* ndjsonLines(input: Readable): AsyncGenerator<Line> {
  let fileLine = 0;
  for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
    fileLine++;
    if (text.trim()) yield { fileLine, text };
  }
}

const CSV_COLUMNS = ['series', 'ts', 'value'] as const;

async function* csvLines(input: Readable): AsyncGenerator<Line> {
  const records = input.pipe(parseCsv({ info: true, relax_column_count: true, skip_empty_lines: true, trim: true }));
  // columns are series,ts,value unless a header row names them in another order
  let order: number[] = [0, 1, 2];
  let first = true;
  for await (const { record, info } of records as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (first) {
      first = false;
      const header = record.map((c) => c.toLowerCase());
      if (CSV_COLUMNS.every((c) => header.includes(c))) {
        order = CSV_COLUMNS.map((c) => header.indexOf(c));
        continue;
      }
    }
    const [series, ts, value] = order.map((i) => record[i]);
    // validation is the server's: a bad value becomes null and comes back as an invalid line
    const numeric = value === undefined || value === '' ? null : Number(value);
    yield { fileLine: info.lines, text: JSON.stringify({ series, ts, value: numeric }) };
  }
}

async function postWithRetry(
  client: Client,
  body: string,
): Promise<{ accepted: number; invalid?: { line: number; error: string }[]; invalidCount?: number }> {
  for (let attempt = 0; ; attempt++) {
    const r = await client.send('POST', '/ingest', { body, contentType: 'application/x-ndjson' });
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
