import type { FastifyPluginAsync } from 'fastify';
import { IANAZone } from 'luxon';
import type { BlobStore } from '../../core/blob/index.js';
import { InvalidInput } from '../../core/errors.js';
import { dateRangeParam } from '../../core/time/dates.js';
import type { createDumper } from './dumper.js';
import { DUMP_FORMATS, type DumpFormat } from './formats.js';
import { parsePatterns } from './patterns.js';
import type { Settings } from './settings.js';

interface DumpBody {
  date?: unknown;
  to?: unknown;
  format?: unknown;
  series?: unknown;
  tz?: unknown;
}

/** `POST /api/v1/dumps` (admin; behind `wattline dump`) and `GET /api/v1/dumps` (the ledger). */
export const dumpRoutes =
  ({
    dumper,
    blobs,
    settings,
    zone,
  }: {
    dumper: ReturnType<typeof createDumper>;
    blobs: BlobStore;
    settings: Settings['dumps'];
    zone: string;
  }): FastifyPluginAsync =>
  async (http) => {
    const tags = ['dumps'];
    http.post<{ Body: DumpBody }>(
      '/api/v1/dumps',
      {
        config: { access: 'admin' },
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
        const format = body.format ?? settings.format;
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
          series: parsePatterns(body.series ?? settings.series),
          zone: tz,
          scheduled: false,
        });
        return { dumps };
      },
    );
    http.get(
      '/api/v1/dumps',
      {
        schema: { summary: 'The days dumped, newest first', tags },
      },
      async () => ({
        store: blobs.url,
        dumps: await dumper.list(),
      }),
    );
  };
