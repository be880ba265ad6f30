import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput, NotFound, UpstreamFailed } from '../../core/errors.js';
import { defineModule, type ModuleContext } from '../../core/module.js';
import { parseTimestamp } from '../../core/time/timestamps.js';
import type { Store } from '../../core/store/index.js';
import type { ReadingsService } from '../readings/index.js';
import type { Connector } from './connector.js';
import { builtInConnectors } from './connectors.js';
import { createUpstream, UpstreamError } from './http.js';
import { sourceStatuses } from './repository.js';
import { bootstrap, type RunnerDeps, startHealing } from './runner.js';
import { type Settings, settings } from './settings.js';

export type { Connector } from './connector.js';
export type { Upstream } from './http.js';

/**
 * Pull sources (see connectors.ts): each enabled connector keeps its readings filled from its last
 * stored reading to now, backfills its history and polls (role `jobs`);
 * `POST /api/v1/sources/{name}/bootstrap` (admin, role `api`) fetches a range on demand, behind
 * `wattline bootstrap`. Start-up never calls upstream.
 */
/** What other modules may ask of sources. */
export interface SourcesService {
  /**
   * Fetches `source`'s readings for [fromMs, toMs) now, chunks already fetched skipped, and
   * resolves once they are durable. Throws when the source is off or upstream fails; an unreachable
   * upstream fails at once, without retries (`<source>: upstream unreachable: <host> (<code>)`).
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
    {
      readings,
      connectors: others = [],
    }: {
      readings: Pick<ReadingsService, 'describe' | 'catalog'>;
      /** Connectors other modules own (EdgeCom's), run alongside the built-in ones. */
      connectors?: readonly Connector[];
    },
  ) {
    const { store, bus, log } = ctx;
    const connectors = [...others, ...builtInConnectors(ctx.settings)];
    const abort = new AbortController();

    const deps = new Map<string, RunnerDeps>();
    /** The same, with an upstream that fails at once when unreachable: for `fetchRange`, whose caller waits. */
    const waitedOn = new Map<string, RunnerDeps>();
    for (const connector of connectors) {
      if (connector.off) {
        log.info({ source: connector.name, reason: connector.off }, 'connector off');
        continue;
      }
      const upstream = createUpstream({ name: connector.name, ...ctx.settings.sources, log, signal: abort.signal });
      deps.set(connector.name, { connector, upstream, store, bus, log, connections: ctx.connections });
      waitedOn.set(connector.name, { connector, upstream: upstream.failingFast, store, bus, log });
    }

    const service: SourcesService = {
      async fetchRange(source, fromMs, toMs) {
        const d = waitedOn.get(source);
        if (!d)
          throw new Error(
            `source ${source} is off: ${connectors.find((c) => c.name === source)?.off ?? 'unknown source'}`,
          );
        return bootstrap(d, fromMs, toMs, abort.signal);
      },
      usageSeries: ctx.settings.octopus.mpan ? `meter/${ctx.settings.octopus.mpan}/consumption` : undefined,
    };
    return {
      service,
      roles: {
        // the catalog learns the units of what the connectors write
        persist: {
          start: async () => {
            for (const d of deps.values()) await readings.describe(d.connector.series);
            return () => undefined;
          },
        },
        jobs: { start: () => startFetching([...deps.values()], readings, abort) },
        api: { routes: sourcesRoutes({ deps, connectors, store, signal: abort.signal }) },
      },
      close: async () => abort.abort(),
    };
  },
});

/** Starts keeping every enabled connector filled (see `startHealing`); fetching runs in the background. */
function startFetching(all: RunnerDeps[], readings: Pick<ReadingsService, 'catalog'>, abort: AbortController) {
  const stops = all.map((d) =>
    startHealing(
      d,
      async () => {
        const entries = await readings.catalog(d.connector.series.map((s) => s.key));
        const last = entries.reduce((max, e) => Math.max(max, e.lastTs), -Infinity);
        return Number.isFinite(last) ? last : undefined;
      },
      abort.signal,
    ),
  );
  return async () => {
    abort.abort(); // fetching under way stops at once; finished chunks keep their checkpoints
    await Promise.all(stops.map((healing) => healing.stop()));
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * `GET /api/v1/sources` (read): each connector, on or off (and why), with how its polls went as the
 * jobs role recorded them (`source_status`: that role may run in another process).
 * `POST /api/v1/sources/{name}/bootstrap` (admin): a range fetched on demand, behind `wattline bootstrap`.
 */
const sourcesRoutes =
  ({
    deps,
    connectors,
    store,
    signal,
  }: {
    deps: Map<string, RunnerDeps>;
    connectors: readonly Connector[];
    store: Store;
    signal: AbortSignal;
  }): FastifyPluginAsync =>
  async (http) => {
    http.get(
      '/api/v1/sources',
      {
        config: { access: 'read' },
        schema: { summary: 'Each pull source: on or off, last success, last error, next run', tags: ['sources'] },
      },
      async () => {
        const statuses = await sourceStatuses(store);
        return {
          sources: connectors.map((c) => {
            const s = statuses.get(c.name);
            return {
              name: c.name,
              state: c.off ? 'off' : 'on',
              reason: c.off ?? null,
              last_success: iso(s?.lastSuccessMs ?? null),
              last_error: s?.lastError ? { time: iso(s.lastErrorMs), message: s.lastError } : null,
              // an off connector does not run, whatever it recorded before
              next_run: c.off ? null : iso(s?.nextRunMs ?? null),
              series: c.series.map((d) => d.key),
            };
          }),
        };
      },
    );

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
            throw new InvalidInput('source_off', `source ${known.name} is off: ${known.off}`, {
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
