import { IANAZone } from 'luxon';
import { z } from 'zod';
import { SERIES_KEY_PATTERN } from '../../core/readings.js';
import { flag, int, listOf } from '../../core/settings.js';

/** One watched location: where, how often, which files, and how to read their times and name their series. */
export const watchedLocation = z.strictObject({
  url: z.string().regex(/^(ftps?:\/\/[^/]+(\/.*)?|file:\/\/\/.*)$/, {
    error: 'expected ftp://user:password@host:port/path, ftps://… or file:///dir',
  }),
  /** Its name in the ledger and the API; default: the URL without its password. */
  name: z.string().max(200).default(''),
  interval_s: z
    .number({ error: 'expected seconds between scans' })
    .int({ error: 'expected whole seconds' })
    .min(1)
    .max(30 * 86_400)
    .default(21_600),
  skip_initial_scan: z.boolean().default(false),
  /** Base-name globs, comma-separated. */
  pattern: z.string().min(1).default('*.sgl_v2,*.csv'),
  recursive: z.boolean().default(false),
  /** IANA zone of the files' local times. Default: the seed utility's (Portugal). */
  timezone: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), { error: 'expected an IANA time zone such as Europe/Lisbon' })
    .default('Europe/Lisbon'),
  /** Series are `<prefix>/<meter point or column>`. */
  prefix: z
    .string()
    .regex(SERIES_KEY_PATTERN, { error: 'expected a series key prefix such as files' })
    .default('files'),
});

export type WatchedLocation = z.output<typeof watchedLocation>;

/** The files module's settings. */
export const settings = z.object({
  files: z
    .object({
      locations: listOf(watchedLocation)
        .default([])
        .describe(
          'Watched FTP servers and folders: a list in YAML, JSON text in the environment, each `{url, name, interval_s (21600), skip_initial_scan, pattern ("*.sgl_v2,*.csv"), recursive, timezone ("Europe/Lisbon"), prefix ("files")}`; `url` is `ftp://user:password@host:port/path`, `ftps://…` (explicit TLS) or `file:///dir`.',
        ),
      ftp: z
        .object({
          host: z
            .string()
            .default('')
            .describe("The seed's FTP server (`FTP_SA4CPS_HOST`): one more watched location when set."),
          port: int(21, 1, 65_535, "The seed's FTP port (`FTP_SA4CPS_PORT`)."),
          username: z.string().default('').describe("The seed's FTP user (`FTP_SA4CPS_USERNAME`)."),
          password: z.string().default('').describe("The seed's FTP password (`FTP_SA4CPS_PASSWORD`); never shown."),
          remotePath: z.string().default('/').describe("The seed's folder on the server (`FTP_SA4CPS_REMOTE_PATH`)."),
          checkInterval: int(21_600, 1, 30 * 86_400, "Seconds between the seed server's scans (`FTP_CHECK_INTERVAL`)."),
          skipInitialScan: flag(false, "Skip the seed server's scan at start (`FTP_SKIP_INITIAL_SCAN`)."),
        })
        .prefault({}),
      timeoutMs: int(
        30_000,
        100,
        3_600_000,
        'A connection, listing or download idle this long fails (and is retried on the next scan).',
      ),
      settleMs: int(
        10_000,
        0,
        86_400_000,
        'A file seen for the first time is taken at once only if unchanged this long (by its modification time); otherwise, and whenever its size or time changed since the last listing, it waits for the next scan.',
      ),
      maxFileBytes: int(
        268_435_456,
        1,
        Number.MAX_SAFE_INTEGER,
        'Larger files (by their listed size) are skipped and recorded with the reason; a file is parsed whole before it is stored, so this bounds the memory one file may take (~20 bytes a reading).',
      ),
    })
    .prefault({}),
});

export type Settings = z.output<typeof settings>;
