import type { BlobStore } from '../../core/blob/index.js';
import type { Logger } from '../../core/log.js';
import type { Store } from '../../core/store/index.js';
import type { ReadingsService } from '../readings/index.js';
import { CONTENT_TYPES, encodeDump, EXTENSIONS, type DumpFormat } from './formats.js';
import { dayRange } from './schedule.js';

export interface DumpRequest {
  /** Local days, YYYY-MM-DD, in order. */
  days: readonly string[];
  format: DumpFormat;
  /** Series patterns (`*` any run of characters); empty: every series. */
  series: readonly string[];
  zone: string;
  scheduled: boolean;
}

export interface DumpResult {
  date: string;
  format: DumpFormat;
  /** The blob's name in the store, e.g. `2026-03-29.json.gz`. */
  blob: string;
  url: string;
  rows: number;
  bytes: number;
}

/** True for keys matching any pattern; `*` matches any run of characters, everything else itself. */
export function seriesMatcher(patterns: readonly string[]): (key: string) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`));
  return (key) => res.some((re) => re.test(key));
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Writes each day's readings to the blob store, streamed from the store through the format's
 * encoder into the blob (memory flat whatever the day holds), then notes it in the `dumps` table.
 */
export function createDumper(deps: {
  store: Store;
  readings: Pick<ReadingsService, 'exportRange' | 'catalog'>;
  blobs: BlobStore;
  log: Logger;
}) {
  const { store, readings, blobs, log } = deps;

  async function dumpDay(day: string, request: DumpRequest): Promise<DumpResult> {
    const started = performance.now();
    const { startMs, endMs } = dayRange(day, request.zone);
    const series = request.series.length
      ? (await readings.catalog()).map((s) => s.key).filter(seriesMatcher(request.series))
      : undefined;
    let rows = 0;
    const body = encodeDump(request.format, readings.exportRange({ series, startMs, endMs }), (n) => (rows += n));
    const name = day + EXTENSIONS[request.format];
    const put = await blobs.put(name, body, { contentType: CONTENT_TYPES[request.format] });
    const result: DumpResult = {
      date: day,
      format: request.format,
      blob: put.name,
      url: put.url,
      rows,
      bytes: put.bytes,
    };
    await store.transaction((tx) =>
      tx.run(
        `INSERT INTO dumps (date, format, time_zone, blob_url, rows, bytes, scheduled, written_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now())
         ON CONFLICT (date, format) DO UPDATE SET time_zone = excluded.time_zone, blob_url = excluded.blob_url, rows = excluded.rows,
           bytes = excluded.bytes, scheduled = excluded.scheduled, written_at = excluded.written_at`,
        [day, request.format, request.zone, put.url, rows, put.bytes, request.scheduled],
      ),
    );
    log.info({ ...result, zone: request.zone, ms: Math.round(performance.now() - started) }, 'dump written');
    return result;
  }

  return {
    /** Dumps the days one after another (a day's dump replaces an earlier one of the same name). */
    async dump(request: DumpRequest): Promise<DumpResult[]> {
      const results: DumpResult[] = [];
      for (const day of request.days) results.push(await dumpDay(day, request));
      return results;
    },

    /** The latest day the daily job dumped in `format`, if any. */
    async lastScheduled(format: DumpFormat): Promise<string | undefined> {
      const rows = await store.query<{ date: string }>(
        `SELECT max(date) AS date FROM dumps WHERE format = $1 AND scheduled`,
        [format],
      );
      return rows[0]?.date ?? undefined;
    },

    /** Every day dumped, newest first. */
    async list(): Promise<(DumpResult & { timeZone: string; scheduled: boolean; writtenAt: string })[]> {
      const rows = await store.query<{
        date: string;
        format: DumpFormat;
        time_zone: string;
        blob_url: string;
        rows: number;
        bytes: number;
        scheduled: boolean;
        written_at: unknown;
      }>(
        `SELECT date, format, time_zone, blob_url, rows, bytes, scheduled, written_at FROM dumps ORDER BY date DESC, format`,
      );
      return rows.map((r) => ({
        date: r.date,
        format: r.format,
        blob: r.blob_url.slice(r.blob_url.lastIndexOf('/') + 1),
        url: r.blob_url,
        rows: r.rows,
        bytes: r.bytes,
        timeZone: r.time_zone,
        scheduled: r.scheduled,
        writtenAt: new Date(r.written_at as string | Date).toISOString(),
      }));
    },
  };
}

export type Dumper = ReturnType<typeof createDumper>;
