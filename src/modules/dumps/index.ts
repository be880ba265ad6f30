import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBlobStore } from '../../core/blob/index.js';
import { defineModule, type ModuleContext } from '../../core/module.js';
import type { ReadingsService } from '../readings/index.js';
import { createDumper } from './dumper.js';
import { startDailyDumps } from './job.js';
import { parsePatterns } from './patterns.js';
import { dumpRoutes } from './routes.js';
import { type Settings, settings } from './settings.js';

/**
 * Daily dumps (cloud-lada's dumper): each local day's readings to a blob store (`file://` or
 * `s3://`) as gzipped NDJSON `YYYY-MM-DD.json.gz`, gzipped CSV or Parquet. `POST /api/v1/dumps`
 * (admin; `wattline dump`) dumps days on request; the daily job (role `jobs`) dumps yesterday at
 * `dumps.hour` and catches up on days missed while stopped.
 */
export const dumpsModule = defineModule({
  name: 'dumps',
  settings,
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  create(ctx: ModuleContext<Settings>, { readings }: { readings: Pick<ReadingsService, 'exportRange' | 'catalog'> }) {
    const { dumps } = ctx.settings;
    const blobs = openBlobStore(dumps.url, { dataDir: ctx.core.dataDir, s3: ctx.core.s3 });
    const dumper = createDumper({ store: ctx.store, readings, blobs, log: ctx.log });
    const zone = dumps.timezone || ctx.core.timezone;
    const schedule = {
      hour: dumps.hour,
      zone,
      format: dumps.format,
      series: parsePatterns(dumps.series),
      catchUpDays: dumps.catchUpDays,
    };
    return {
      service: undefined,
      roles: {
        api: { routes: dumpRoutes({ dumper, blobs, settings: dumps, zone }) },
        jobs: {
          start: () => {
            if (!dumps.daily) return () => undefined;
            const job = startDailyDumps(dumper, schedule, ctx.log);
            return () => job.stop();
          },
        },
      },
    };
  },
});
