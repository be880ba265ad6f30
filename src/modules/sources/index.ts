import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput, NotFound, UpstreamFailed } from '../../core/errors.js';
import { defineModule, type ModuleContext } from '../../core/module.js';
import { parseTimestamp } from '../../core/time/timestamps.js';
import type { ReadingsService } from '../readings/index.js';
import { connectors } from './connectors.js';
import { createUpstream, UpstreamError } from './http.js';
import { finishedChunks } from './repository.js';
import type { ConnectorConfig } from './connector.js';
import { bootstrap, startPolling, type RunnerDeps } from './runner.js';
import { type Settings, settings } from './settings.js';
import type { Settings as EdgecomSettings } from '../edgecom/settings.js';

const DAY_MS = 86_400_000;

/**
 * Pull sources (see connectors.ts): each enabled connector bootstraps its history on first
 * start and then polls (role `jobs`); `POST /api/v1/sources/{name}/bootstrap` (admin, role `api`)
 * fetches a range on demand, behind `wattline bootstrap`. Start-up never calls upstream.
 */
/** What other modules may ask of sources. */
export interface SourcesService {
  /**
   * Fetches `source`'s readings for [fromMs, toMs) now, chunks already fetched skipped, and
   * resolves once they are durable. Throws when the source is off or upstream fails.
   */
  fetchRange(source: string, fromMs: number, toMs: number): Promise<{ readings: number }>;
  /** The meter's half-hourly consumption series (`meter/<mpan>/consumption`), when a meter is set. */
  usageSeries: string | undefined;
}

export const sourcesModule = defineModule({
  name: 'sources',
  settings,
  migrations: path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations'),
  async create(
    ctx: ModuleContext<Settings>,
    { readings, edgecom }: { readings: Pick<ReadingsService, 'describe'>; edgecom: EdgecomSettings['edgecom'] },
  ) {
    const { store, bus, log } = ctx;
    const config: ConnectorConfig = { ...ctx.settings, edgecom };
    const abort = new AbortController();

    const deps = new Map<string, RunnerDeps>();
    for (const connector of connectors) {
      const reason = connector.off(config);
      if (reason) {
        log.info({ source: connector.name, reason }, 'connector off');
        continue;
      }
      const upstream = createUpstream({ name: connector.name, ...config.sources, log });
      deps.set(connector.name, { connector, upstream, config, store, bus, log });
    }

    const service: SourcesService = {
      async fetchRange(source, fromMs, toMs) {
        const d = deps.get(source);
        if (!d)
          throw new Error(
            `source ${source} is off: ${connectors.find((c) => c.name === source)?.off(config) ?? 'unknown source'}`,
          );
        return bootstrap(d, fromMs, toMs, abort.signal);
      },
      usageSeries: config.octopus.mpan ? `meter/${config.octopus.mpan}/consumption` : undefined,
    };
    return {
      service,
      roles: {
        // the catalog learns the units of what the connectors write
        persist: {
          start: async () => {
            for (const d of deps.values()) await readings.describe(d.connector.series(config));
            return () => undefined;
          },
        },
        jobs: { start: () => startFetching([...deps.values()], { config, store, log, abort }) },
        api: { routes: sourcesRoutes({ deps, config, signal: abort.signal }) },
      },
      close: async () => abort.abort(),
    };
  },
});

/** Bootstraps each connector that has no history yet (in the background), and polls them all. */
async function startFetching(
  all: RunnerDeps[],
  {
    config,
    store,
    log,
    abort,
  }: { config: ConnectorConfig; store: RunnerDeps['store']; log: RunnerDeps['log']; abort: AbortController },
) {
  const stops: (() => void)[] = [];
  const running: Promise<unknown>[] = [];
  for (const d of all) {
    // decided during start-up (a cheap query); only the fetching runs in the background
    const days = d.connector.bootstrapDays(config);
    if (days > 0 && (await finishedChunks(store, d.connector.name)).size === 0) {
      const now = Date.now();
      running.push(
        bootstrap(d, now - days * DAY_MS, now, abort.signal).catch((err) =>
          log.error(
            { err, source: d.connector.name },
            'bootstrap failed; it resumes at the next start or with `wattline bootstrap`',
          ),
        ),
      );
    }
    stops.push(startPolling(d));
  }
  return async () => {
    abort.abort(); // a bootstrap under way stops at its next chunk
    for (const stop of stops) stop();
    await Promise.all(running);
  };
}

/** `POST /api/v1/sources/{name}/bootstrap` (admin): a range fetched on demand, behind `wattline bootstrap`. */
const sourcesRoutes =
  ({
    deps,
    config,
    signal,
  }: {
    deps: Map<string, RunnerDeps>;
    config: ConnectorConfig;
    signal: AbortSignal;
  }): FastifyPluginAsync =>
  async (http) => {
    http.post<{ Params: { name: string }; Body: { from: string; to?: string } }>(
      '/api/v1/sources/:name/bootstrap',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Fetch a source’s history (chunks already fetched are skipped)',
          tags: ['sources'],
          body: {
            type: 'object',
            required: ['from'],
            properties: { from: { type: 'string' }, to: { type: 'string' } },
          },
        },
      },
      async (request) => {
        const d = deps.get(request.params.name);
        if (!d) {
          const known = connectors.find((c) => c.name === request.params.name);
          if (known)
            throw new InvalidInput('source_off', `source ${known.name} is off: ${known.off(config)}`, {
              field: 'name',
            });
          throw new NotFound(
            `no source ${request.params.name}; sources are ${connectors.map((c) => c.name).join(', ')}`,
            { field: 'name' },
          );
        }
        const fromMs = parseTimestamp(request.body.from);
        const toMs = request.body.to === undefined ? Date.now() : parseTimestamp(request.body.to);
        if (Number.isNaN(fromMs))
          throw new InvalidInput('invalid_from', 'from must be ISO 8601 or epoch milliseconds', { field: 'from' });
        if (Number.isNaN(toMs) || toMs < fromMs)
          throw new InvalidInput('invalid_to', 'to must be ISO 8601 or epoch milliseconds, not before from', {
            field: 'to',
          });
        try {
          return await bootstrap(d, fromMs, toMs, signal);
        } catch (err) {
          // what upstream did wrong is ours to say (after the retries); chunks done so far are kept
          if (err instanceof UpstreamError) throw new UpstreamFailed((err as Error).message, { cause: err });
          throw err;
        }
      },
    );
  };
