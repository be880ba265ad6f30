import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput, NotFound } from '../../core/errors.js';
import type { Store } from '../../core/store/index.js';
import {
  countsByStatus,
  FILE_STATUSES,
  type FileStatus,
  type LedgerEntry,
  listEntries,
  locationStates,
} from './repository.js';
import type { ScanReport, ScannedLocation } from './scanner.js';

const iso = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());
const MAX_PAGE = 1000;

export const entryJson = (e: LedgerEntry) => ({
  location: e.location,
  path: e.path,
  size: e.size,
  modified: iso(e.modifiedMs),
  sha256: e.sha256,
  status: e.status,
  readings: e.readings,
  error: e.error,
  line: e.errorLine,
  duplicate_of: e.duplicateOf,
  first_processed: iso(e.firstProcessedMs),
  last_processed: iso(e.lastProcessedMs),
});

/** `GET /api/v1/ingestion/status`, `GET /api/v1/ingestion/files`, `POST /api/v1/ingestion/trigger`. */
export const ingestionRoutes =
  (deps: {
    store: Store;
    locations: readonly ScannedLocation[];
    scan: (loc: ScannedLocation) => Promise<ScanReport>;
  }): FastifyPluginAsync =>
  async (http) => {
    const { store, locations } = deps;

    http.get(
      '/api/v1/ingestion/status',
      {
        config: { access: 'read' },
        schema: {
          summary: 'Each watched location: last and next scan, last error, files by status',
          tags: ['files'],
        },
      },
      async () => {
        const [states, counts] = await Promise.all([locationStates(store), countsByStatus(store)]);
        return {
          locations: locations.map((l) => {
            const s = states.get(l.name);
            const c = counts.get(l.name) ?? { pending: 0, ingested: 0, rejected: 0, skipped: 0 };
            return {
              name: l.name,
              url: l.location.display,
              interval_s: l.settings.interval_s,
              last_scan: iso(s?.lastScanMs ?? null),
              last_success: iso(s?.lastSuccessMs ?? null),
              next_scan: iso(s?.nextScanMs ?? null),
              last_error: s?.lastError ?? null,
              files_ingested: c.ingested,
              files_rejected: c.rejected,
              files_pending: c.pending,
              files_skipped: c.skipped,
            };
          }),
        };
      },
    );

    http.get<{ Querystring: { status?: string; location?: string; limit?: string; offset?: string } }>(
      '/api/v1/ingestion/files',
      {
        config: { access: 'read' },
        schema: {
          summary:
            'The ledger: every file seen, what became of it (a rejected file: its line and reason), newest first',
          tags: ['files'],
          querystring: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              location: { type: 'string' },
              limit: { type: 'string' },
              offset: { type: 'string' },
            },
          },
        },
      },
      async (request) => {
        const { status, location } = request.query;
        if (status !== undefined && !(FILE_STATUSES as readonly string[]).includes(status))
          throw new InvalidInput('invalid_status', `status must be one of ${FILE_STATUSES.join(', ')}`, {
            field: 'status',
          });
        const whole = (name: 'limit' | 'offset', fallback: number, max: number) => {
          const text = request.query[name];
          if (text === undefined) return fallback;
          const n = Number(text);
          if (!/^\d+$/.test(text) || n > max)
            throw new InvalidInput(`invalid_${name}`, `${name} must be a whole number from 0 to ${max}`, {
              field: name,
            });
          return n;
        };
        const page = await listEntries(store, {
          status: status as FileStatus | undefined,
          location,
          limit: whole('limit', 100, MAX_PAGE),
          offset: whole('offset', 0, Number.MAX_SAFE_INTEGER),
        });
        return { files: page.entries.map(entryJson), total: page.total };
      },
    );

    http.post<{ Body: { location?: unknown } | null }>(
      '/api/v1/ingestion/trigger',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Scans every watched location now (or `{"location": name}` alone) and answers what each scan found',
          tags: ['files'],
        },
      },
      async (request) => {
        const wanted = request.body?.location;
        if (wanted !== undefined && typeof wanted !== 'string')
          throw new InvalidInput('invalid_location', 'location must be the name of a watched location', {
            field: 'location',
          });
        const chosen = wanted === undefined ? locations : locations.filter((l) => l.name === wanted);
        if (wanted !== undefined && !chosen.length)
          throw new NotFound(`no watched location is named "${wanted.slice(0, 200)}"`, { field: 'location' });
        return { scans: await Promise.all(chosen.map((l) => deps.scan(l))) };
      },
    );
  };
