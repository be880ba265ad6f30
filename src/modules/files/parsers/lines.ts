import { StringDecoder } from 'node:string_decoder';
import { readChunks } from '../read-chunks.js';
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
 * file (read through one reused buffer), and lines are handed over synchronously, as a per-line async iterator (readline's) allocated
 * enough promises to grow RSS by tens of MB over a 50 MB file. The file closes however reading ends.
 * A line longer than MAX_LINE_CHARS is refused (FileRejected) rather than gathered chunk after chunk.
 */
export async function readFileLines(
  file: string,
  encoding: 'latin1' | 'utf8',
  reader: LineReader,
): Promise<ParsedFile> {
  // keeps a character split between two chunks for the next
  const decoder = new StringDecoder(encoding);
  let rest = '';
  let lineNo = 0;
  for await (const bytes of readChunks(file)) {
    const parts = (rest + decoder.write(bytes)).split('\n');
    rest = parts.pop()!;
    lineNo += parts.length;
    for (const part of parts) reader.line(part.endsWith('\r') ? part.slice(0, -1) : part);
    if (rest.length > MAX_LINE_CHARS)
      throw new FileRejected(lineNo + 1, `line is longer than ${MAX_LINE_CHARS} characters: not a load-curve file`);
  }
  rest += decoder.end();
  // a last line without a line end
  if (rest !== '') reader.line(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  return reader.finish();
}
