import { InvalidInput } from '../../../core/errors.js';
import type { ReadingBatch } from '../../../core/readings.js';

/** What a parsed file says of one of its series; `unit` null when the file does not say. */
export interface ParsedSeries {
  key: string;
  unit: 'kWh' | 'Wh' | 'kW' | 'W' | null;
  kind: 'interval' | 'gauge' | 'counter';
  /** Seconds each reading covers (interval series on a regular grid); null when unknown or irregular. */
  intervalS: number | null;
  /** The meter point code the series belongs to, when the file names one. */
  meterPoint: string | null;
}

/** A whole file, read: its readings in columnar batches plus what it said of itself. */
export interface ParsedFile {
  format: 'sgl_v2' | 'delimited';
  batches: ReadingBatch[];
  /** Data records read (`20` records of an sgl_v2 file, data rows of a delimited one), not readings. */
  rows: number;
  /** In order of first appearance. */
  series: ParsedSeries[];
  /** The file's own header: sgl_v2 `entity`, `date`, `sequence`; delimited `# key: value` comments. */
  metadata: Record<string, string>;
}

export interface ParseOptions {
  /** IANA zone for local times without an offset, e.g. `Europe/Lisbon`. */
  zone: string;
  /** First segment(s) of every series key, e.g. `files` → `files/<meter point or column>`. */
  seriesPrefix: string;
  /** Readings per batch; default 10,000. */
  batchRows?: number;
}

/**
 * The file cannot be used as it is: `line` is the 1-based line at fault, 0 when the whole file is
 * (missing trailer, no data). One bad record rejects the file, because a load curve with a hole the
 * sender does not know about is worse than a file sent again.
 */
export class FileRejected extends InvalidInput {
  constructor(
    override readonly line: number,
    readonly reason: string,
  ) {
    super('file_rejected', line > 0 ? `line ${line}: ${reason}` : reason, { line });
  }
}
