import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IANAZone } from 'luxon';
import { requireKey } from '../../core/auth/hooks.js';
import { openBlobStore } from '../../core/blob/index.js';
import { InvalidInput } from '../../core/errors.js';
import type { CoreContext, StartedModule } from '../../core/module.js';
import { loadMigrations } from '../../core/store/index.js';
import { dateRangeParam } from '../../core/time/dates.js';
import type { ReadingsService } from '../readings/index.js';
import { createDumper } from './dumper.js';
import { DUMP_FORMATS, type DumpFormat } from './formats.js';
import { startDailyDumps } from './job.js';

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
// a series key with `*` wildcards
const SERIES_PATTERN = /^[A-Za-z0-9_.:/*-]{1,200}$/;

interface DumpBody {
  date?: unknown;
  to?: unknown;
  format?: unknown;
  series?: unknown;
  tz?: unknown;
}

/**
 * Daily dumps (cloud-lada's dumper): each local day's readings to a blob store (`file://` or
 * `s3://`) as gzipped NDJSON `YYYY-MM-DD.json.gz`, gzipped CSV or Parquet. `POST /api/v1/dumps`
 * (admin; `wattline dump`) dumps days on request; the daily job (role `jobs`) dumps yesterday at
 * `dumps.hour` and catches up on days missed while stopped.
 */
export async function startDumps(
  ctx: CoreContext,
  readings: Pick<ReadingsService, 'exportRange' | 'catalog'>,
): Promise<StartedModule> {
  const { config, store, http } = ctx;
  await store.migrate('dumps', loadMigrations(migrationsDir, store.kind));
  const log = ctx.log.child({ module: 'dumps' });
  const blobs = openBlobStore(config.dumps.url, { dataDir: config.dataDir, s3: config.s3 });
  const dumper = createDumper({ store, readings, blobs, log });
  const zone = config.dumps.timezone || config.timezone;

  if (ctx.roles.has('api')) {
    const tags = ['dumps'];
    http.post<{ Body: DumpBody }>(
      '/api/v1/dumps',
      {
        onRequest: requireKey(ctx.keys, 'admin'),
        schema: {
          summary: 'Dump local days to the blob store; answers with the blobs written',
          tags,
          body: {
            type: 'object',
            properties: {
              date: { type: 'string', description: 'first local day, YYYY-MM-DD' },
              to: { type: 'string', description: 'last local day (default: date)' },
              format: { type: 'string', enum: [...DUMP_FORMATS] },
              series: { description: 'series patterns (`*` wildcard), an array or comma-separated' },
              tz: { type: 'string', description: `IANA time zone of the days (default ${zone})` },
            },
          },
        },
      },
      async (request) => {
        const body = request.body ?? {};
        const days = dateRangeParam(body.date, body.to, { from: 'date', to: 'to' });
        const format = body.format ?? config.dumps.format;
        if (!(DUMP_FORMATS as readonly unknown[]).includes(format))
          throw new InvalidInput(
            'invalid_format',
            `format must be one of ${DUMP_FORMATS.join(', ')} (got ${JSON.stringify(format)?.slice(0, 30)})`,
            { field: 'format' },
          );
        const tz = body.tz ?? zone;
        if (typeof tz !== 'string' || !IANAZone.isValidZone(tz))
          throw new InvalidInput(
            'invalid_tz',
            `tz must be an IANA time zone such as Europe/London (got ${JSON.stringify(tz)?.slice(0, 40)})`,
            { field: 'tz' },
          );
        const dumps = await dumper.dump({
          days,
          format: format as DumpFormat,
          series: parsePatterns(body.series ?? config.dumps.series),
          zone: tz,
          scheduled: false,
        });
        return { dumps };
      },
    );
    http.get(
      '/api/v1/dumps',
      {
        onRequest: requireKey(ctx.keys, 'read', config.requireReadKey),
        schema: { summary: 'The days dumped, newest first', tags },
      },
      async () => ({
        store: blobs.url,
        dumps: await dumper.list(),
      }),
    );
  }

  const job =
    ctx.roles.has('jobs') && config.dumps.daily
      ? startDailyDumps(
          dumper,
          {
            hour: config.dumps.hour,
            zone,
            format: config.dumps.format,
            series: parsePatterns(config.dumps.series),
            catchUpDays: config.dumps.catchUpDays,
          },
          log,
        )
      : undefined;
  return { name: 'dumps', stop: async () => job?.stop() };
}

/** Series patterns from a list or a comma-separated string; a bad one is a 400 naming it. */
export function parsePatterns(value: unknown): string[] {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (!items || items.some((p) => typeof p !== 'string'))
    throw new InvalidInput('invalid_series', 'series must be a list of series patterns or a comma-separated string', {
      field: 'series',
    });
  const patterns = (items as string[]).map((p) => p.trim()).filter(Boolean);
  const bad = patterns.find((p) => !SERIES_PATTERN.test(p));
  if (bad !== undefined)
    throw new InvalidInput(
      'invalid_series',
      `series pattern "${bad.slice(0, 50)}" may hold only letters, digits, _ . : / - and * (at most 200)`,
      { field: 'series' },
    );
  return patterns;
}
