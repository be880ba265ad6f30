import fs from 'node:fs';
import type { ParsedFile } from './types.js';

/** A parser fed one line at a time (line end removed), so whoever has the lines decides how to read them. */
export interface LineReader {
  line(text: string): void;
  /** Checks what only the end can tell (a trailer, say) and hands out the file. */
  finish(): ParsedFile;
}

/** Feeds every line of `lines` to `reader`, then finishes it. */
export async function feedLines(
  reader: LineReader,
  lines: AsyncIterable<string> | Iterable<string>,
): Promise<ParsedFile> {
  for await (const text of lines) reader.line(text);
  return reader.finish();
}

/**
 * Feeds a file's lines (LF or CRLF ends) to `reader` chunk by chunk: memory holds one chunk, not the
 * file, and lines are handed over synchronously, as a per-line async iterator (readline's) allocated
 * enough promises to grow RSS by tens of MB over a 50 MB file. The file closes however reading ends.
 */
export async function readFileLines(file: string, encoding: BufferEncoding, reader: LineReader): Promise<ParsedFile> {
  const input = fs.createReadStream(file, { encoding, highWaterMark: 64 * 1024 });
  try {
    let rest = '';
    for await (const chunk of input as AsyncIterable<string>) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const part of parts) reader.line(part.endsWith('\r') ? part.slice(0, -1) : part);
    }
    // a last line without a line end
    if (rest !== '') reader.line(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  } finally {
    input.destroy();
  }
  return reader.finish();
}
