import fs from 'node:fs';
import { FileRejected, type ParsedFile } from './types.js';

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

/** The longest line a load-curve file may have: a file without line ends is refused, not held. */
export const MAX_LINE_CHARS = 1024 * 1024;

/**
 * Feeds a file's lines (LF or CRLF ends) to `reader` chunk by chunk: memory holds one chunk, not the
 * file, and lines are handed over synchronously, as a per-line async iterator (readline's) allocated
 * enough promises to grow RSS by tens of MB over a 50 MB file. The file closes however reading ends.
 * A line longer than MAX_LINE_CHARS is refused (FileRejected) rather than gathered chunk after chunk.
 */
export async function readFileLines(file: string, encoding: BufferEncoding, reader: LineReader): Promise<ParsedFile> {
  const input = fs.createReadStream(file, { encoding, highWaterMark: 64 * 1024 });
  try {
    let rest = '';
    let lineNo = 0;
    for await (const chunk of input as AsyncIterable<string>) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      lineNo += parts.length;
      for (const part of parts) reader.line(part.endsWith('\r') ? part.slice(0, -1) : part);
      if (rest.length > MAX_LINE_CHARS)
        throw new FileRejected(lineNo + 1, `line is longer than ${MAX_LINE_CHARS} characters: not a load-curve file`);
    }
    // a last line without a line end
    if (rest !== '') reader.line(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  } finally {
    input.destroy();
  }
  return reader.finish();
}
