import { IANAZone } from 'luxon';
import { z } from 'zod';
import { flag, int } from '../../core/settings.js';

/** The dumps module's settings (blob credentials for `s3://` are core's `s3.*`). */
export const settings = z.object({
  dumps: z
    .object({
      url: z
        .string()
        .refine(
          (s) => s === '' || /^file:\/\/\//.test(s) || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(s),
          {
            error: 'expected file:///absolute/dir or s3://bucket/prefix',
          },
        )
        .default('')
        .describe(
          'Blob store for daily dumps: `file:///dir` or `s3://bucket/prefix` (any S3-compatible store, see `s3.*`); empty: `file://<data dir>/dumps`.',
        ),
      daily: flag(
        true,
        'Dump each finished day on a schedule (role `jobs`): every day since the last dump, up to yesterday, at `dumps.hour`.',
      ),
      hour: int(1, 0, 23, 'Hour of the day (in `dumps.timezone`) at which yesterday is dumped.'),
      timezone: z
        .string()
        .refine((zone) => zone === '' || IANAZone.isValidZone(zone), {
          error: 'expected an IANA time zone such as Europe/London',
        })
        .default('')
        .describe('Time zone whose calendar days the dumps cover; empty: the `timezone` setting.'),
      format: z
        .enum(['ndjson', 'csv', 'parquet'], { error: 'expected one of ndjson, csv, parquet' })
        .default('ndjson')
        .describe(
          'Format of the daily dumps: gzipped NDJSON `YYYY-MM-DD.json.gz` (as cloud-lada wrote), gzipped CSV `YYYY-MM-DD.csv.gz`, or Parquet `YYYY-MM-DD.parquet`.',
        ),
      series: z
        .string()
        .regex(/^[A-Za-z0-9_.:/*,\s-]*$/, {
          error: 'expected comma-separated series patterns: letters, digits, _ . : / - and *',
        })
        .default('')
        .describe(
          'Comma-separated series patterns the daily dumps keep (`*` matches any run of characters, e.g. `speed,location_*`); empty: every series.',
        ),
      catchUpDays: int(
        31,
        0,
        3650,
        'Most missed days the daily job dumps after a stop (oldest first); older ones need `wattline dump`.',
      ),
    })
    .prefault({}),
});

export type Settings = Readonly<z.output<typeof settings>>;
