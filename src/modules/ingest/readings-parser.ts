import type { ReadingBatch } from '../../core/readings.js';
import type { Precision } from '../../core/time/timestamps.js';
import { LineProtocolReadings } from './line-protocol.js';
import { type LineError, NdjsonReadings } from './ndjson.js';
import type { BodySettings, ParseSettings } from './parse-protocol.js';

/** What the parse pool drives, whatever the body's format: text in, batches out, bad lines counted. */
export interface ReadingsParser {
  accepted: number;
  invalidCount: number;
  readonly invalid: LineError[];
  write(text: string): Promise<void>;
  end(): Promise<void>;
  endWithoutWaiting(): Promise<void>;
}

/** The parser for a body: line protocol, or NDJSON / JSON. */
export function createReadingsParser(
  settings: ParseSettings & BodySettings,
  publish: (batch: ReadingBatch) => Promise<void>,
): ReadingsParser {
  if (settings.format === 'line-protocol')
    return new LineProtocolReadings({
      ...settings,
      precision: settings.precision ?? 'ns',
      now: settings.now ?? Date.now(),
      seriesTags: settings.seriesTags ?? [],
      publish,
    });
  return new NdjsonReadings({
    ...settings,
    format: settings.format,
    precision: settings.precision as Precision | undefined,
    publish,
  });
}
