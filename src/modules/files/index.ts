import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, type ModuleContext } from '../../core/module.js';
import { every } from '../../core/schedule.js';
import type { BuildingsService } from '../buildings/index.js';
import type { ReadingsService } from '../readings/index.js';
import { openLocation, redact, seedFtpUrl } from './locations/index.js';
import { locationStates, saveLocationState } from './repository.js';
import { ingestionRoutes } from './routes.js';
import { createScanner, type ScannedLocation } from './scanner.js';
import { type Settings, settings, type WatchedLocation, watchedLocation } from './settings.js';

export { DATA_INGESTION, type DataIngestionMessage } from './events.js';

/** What the files module needs of others, and the clock it reads (tests inject one). */
export interface FilesDeps {
  readings: ReadingsService;
  /** Each meter point becomes a sensor of the buildings module. */
  buildings: BuildingsService;
  now: () => number;
}

/** The watched locations of the settings: the list, and the seed's FTP server when its host is set. */
export function watchedLocations(s: Settings['files']): WatchedLocation[] {
  const out = [...s.locations];
  const ftp = s.ftp;
  if (ftp.host) {
    out.push(
      watchedLocation.parse({
        url: seedFtpUrl(ftp),
        interval_s: ftp.checkInterval,
        skip_initial_scan: ftp.skipInitialScan,
        pattern: '*.sgl_v2',
      }),
    );
  }
  return out;
}

/**
 * File drops (the Energy Dashboard's data-ingestion module, issue 18): load curves from FTP
 * servers and folders, each file exactly once — a ledger of every file seen, all or nothing per
 * file, readings through the bus like every other adapter, meter points as sensors.
 */
export const filesModule = defineModule({
  name: 'files',
  settings,
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  create(ctx: ModuleContext<Settings>, deps: FilesDeps) {
    const { store, bus, log } = ctx;
    const s = ctx.settings.files;
    const locations: ScannedLocation[] = watchedLocations(s).map((settings) => {
      const location = openLocation(settings.url, {
        patterns: settings.pattern
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
        recursive: settings.recursive,
        timeoutMs: s.timeoutMs,
      });
      return { name: settings.name || redact(settings.url), settings, location };
    });
    const scanner = createScanner({
      store,
      bus,
      readings: deps.readings,
      buildings: deps.buildings,
      log,
      now: deps.now,
      tempDir: path.join(ctx.core.dataDir, 'files-tmp'),
      settleMs: s.settleMs,
      maxFileBytes: s.maxFileBytes,
    });

    /** A scan with its outcome written to the location's state (last and next scan, last error). */
    async function scanAndRecord(loc: ScannedLocation) {
      const started = deps.now();
      const report = await scanner.scan(loc);
      // an FTP server or folder that cannot be listed is an outside service away: /ready lists it
      ctx.connections.set(`files:${loc.name}`, !report.error, report.error ?? undefined);
      // a failed scan keeps the time of the last one that worked
      const lastSuccessMs = report.error
        ? ((await locationStates(store)).get(loc.name)?.lastSuccessMs ?? null)
        : started;
      await saveLocationState(store, {
        location: loc.name,
        lastScanMs: started,
        lastSuccessMs,
        lastError: report.error,
        nextScanMs: deps.now() + loc.settings.interval_s * 1000,
      });
      return report;
    }

    return {
      enabled: locations.length > 0,
      service: { scan: scanAndRecord, locations },
      roles: {
        api: { routes: async (http) => http.register(ingestionRoutes({ store, locations, scan: scanAndRecord })) },
        jobs: {
          start: () => {
            const stops = locations.map((loc) =>
              every(
                loc.settings.interval_s * 1000,
                `file scan of ${loc.name}`,
                () => scanAndRecord(loc),
                log,
                loc.settings.skip_initial_scan ? loc.settings.interval_s * 1000 : 0,
              ),
            );
            return async () => {
              for (const stop of stops) await stop();
            };
          },
        },
      },
      close: async () => {
        for (const l of locations) await l.location.close();
      },
    };
  },
});
