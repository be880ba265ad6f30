import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { READINGS_LIVE_TOPIC, READINGS_TOPIC, type Reading, type ReadingBatch } from '../../core/readings.js';
import type { Bus } from '../../core/bus/index.js';
import { every } from '../../core/schedule.js';
import { applyRetention, loadRules, saveRules } from './retention.js';
import { retentionRoutes } from './retention-routes.js';
import { defineModule, type ModuleContext } from '../../core/module.js';
import { openEngine } from './engines/index.js';
import { Persistor } from './persistor.js';
import { type Answer, answerBytes, createQueryEngine } from './query.js';
import { QueryCache, type TouchedRange } from './query-cache.js';
import { createReadingsMetrics } from './metrics.js';
import { type PointsAround, readAround } from './around.js';
import { createEnergyService, type EnergyService } from './energy/service.js';
import { energyRoutes } from './energy/routes.js';
import { readingsRoutes } from './routes.js';
import { seriesRoutes } from './series-routes.js';
import { recordSeriesMeta } from './units.js';
import { type Settings, settings } from './settings.js';
import type { ReadingsStorage, SeriesDescription, SeriesEntry } from './storage.js';

export type { ReadingsQuery, SeriesPoints, Point, Aggregation, Fill } from './query.js';
export type { SeriesDescription, SeriesEntry } from './storage.js';
export type { PointsAround } from './around.js';
export { parseQueryParams } from './query.js';
/** Reads an energy route's query string (start, end, precision, window, tz, unit), each problem a 400 naming it. */
export { energyParams } from './energy/params.js';

const EXPORT_SLICE_MS = 3_600_000;
const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** What other modules may use of readings: queries, and the write backlog for backpressure. */
export interface ReadingsService {
  query: ReturnType<typeof createQueryEngine>['run'];
  /** Rows published but not yet committed in this process (0 when this process does not persist). */
  backlogRows(): number;
  /** Compacts every partition that is due now (benchmarks and tests use it to skip the wait). */
  compactNow(): Promise<void>;
  /**
   * Calls `listener` with the readings of `series` as they are committed, by any persistor
   * (at most once: live updates, not a log). Returns the function that stops it.
   */
  subscribe(series: readonly string[], listener: (readings: Reading[]) => void): () => void;
  /** Sets units and kinds in the catalog (creating the series if need be), e.g. `{key, unit: 'gCO2/kWh', kind: 'gauge'}`. */
  describe(series: readonly SeriesDescription[]): Promise<void>;
  /**
   * The catalog entries (last time and value, count, unit) of the `keys` that exist; all when
   * undefined (which may be hundreds of thousands: never spread the answer into arguments).
   */
  catalog(keys?: readonly string[]): Promise<SeriesEntry[]>;
  /**
   * Removes a series with all its readings and its catalog entry (a purged sensor, say); false
   * when there was none. Its cached answers go too.
   */
  deleteSeries(key: string): Promise<boolean>;
  /** The time of the latest reading of any series, UTC epoch ms; -Infinity when nothing is stored. */
  lastReadingTs(): Promise<number>;
  /**
   * Every reading of `series` (all series when undefined) with `startMs ≤ ts < endMs`, in time
   * order, streamed from the store a chunk at a time: memory stays flat whatever the range holds.
   * A batch's `keys` may have holes (they are indexed by the store's series ids).
   */
  exportRange(range: { series?: readonly string[]; startMs: number; endMs: number }): AsyncIterable<ReadingBatch>;
  /**
   * Each series' readings in [startMs, endMs) with its nearest reading on either side, and its
   * catalog entry (series not in the catalog are left out): the input of energy arithmetic.
   */
  around(range: {
    series: readonly string[];
    startMs: number;
    endMs: number;
    maxReadings: number;
  }): Promise<Map<string, PointsAround>>;
  /** Energy, cost and carbon of any series and period (energy/service.ts): what other modules call. */
  energy: EnergyService;
}

/**
 * The readings module: series catalog, persistor (bus → store, group commit), compactor, query
 * engine with its cache, and the query routes.
 */
export const readingsModule = defineModule({
  name: 'readings',
  settings,
  migrations: migrationsDir,
  async create(ctx: ModuleContext<Settings>, _deps: unknown) {
    const { store, bus, log } = ctx;
    const { persist, compaction, query, energy: energySettings, retention } = ctx.settings;
    const metrics = createReadingsMetrics(ctx.registry);
    const storage = await openEngine(store, { catalogSaveMs: persist.catalogSaveMs });
    const cache = new QueryCache<Answer>({
      maxEntries: query.cacheSize,
      maxBytes: query.cacheMaxBytes,
      maxEntryBytes: query.cacheMaxEntryBytes,
      ttlMs: query.cacheTtlMs,
      sizeOf: answerBytes,
    });
    // every persistor, in any process, broadcasts what it committed: that is what invalidates answers
    // (the in-process bus delivers before the ingest request is answered)
    const stopInvalidating = bus.subscribe<ReadingBatch>(READINGS_LIVE_TOPIC, (batch) =>
      cache.invalidate(touchedRanges(batch)),
    );
    const persistor = new Persistor({
      write: async (batches, rows) => {
        await storage.write(batches, rows);
        await recordSeriesMeta(storage, batches);
      },
      log,
      metrics,
      maxBatchRows: persist.maxBatchRows,
      lingerMs: persist.lingerMs,
      onCommitted: (batches) => {
        for (const batch of batches) bus.broadcast(READINGS_LIVE_TOPIC, batch);
      },
    });
    const engine = createQueryEngine({
      storage,
      cache,
      metrics,
      maxPoints: query.maxPoints,
      maxSpanMs: query.maxSpanMs,
      energy: energySettings,
    });

    const energy = createEnergyService(storage, energySettings);

    /** The rules set over the API, else the settings'. */
    const retentionRules = async () => {
      const saved = await loadRules(store);
      return saved.length
        ? { rules: saved, source: 'api' as const }
        : { rules: [...retention.rules], source: 'settings' as const };
    };
    const runRetention = async () => {
      const run = await applyRetention({ storage, rules: (await retentionRules()).rules, now: Date.now(), log });
      // raw answers over what was deleted changed (windowed ones did not: the rollups hold them)
      cache.invalidate(run.touched.map((series) => ({ series, minTs: -Infinity, maxTs: Infinity })));
      return run;
    };
    const service: ReadingsService = {
      query: engine.run,
      backlogRows: () => persistor.backlogRows,
      compactNow: () => storage.compactNow(),
      describe: async (series) => {
        await storage.describe(series);
        // unit, kind and interval decide how a series is answered and in what unit: drop its answers
        cache.invalidate(series.map((s) => ({ series: s.key, minTs: -Infinity, maxTs: Infinity })));
      },
      catalog: (keys) => storage.series(keys),
      deleteSeries: async (key) => {
        const deleted = await storage.deleteSeries(key);
        cache.invalidate([{ series: key, minTs: -Infinity, maxTs: Infinity }]);
        return deleted;
      },
      lastReadingTs: () => storage.lastTs(),
      exportRange: (range) => exportRange(storage, range),
      around: (range) => readAround(storage, range),
      energy,
      subscribe: (series, listener) => subscribe(bus, series, listener),
    };
    return {
      service,
      roles: {
        // bus → store, and the compactor beside it
        persist: {
          start: () => {
            const stopConsuming = bus.consume<ReadingBatch>(READINGS_TOPIC, (batch, meta) =>
              persistor.write(Object.assign(batch, { order: meta.order })),
            );
            storage.startBackground({
              log,
              metrics,
              intervalMs: compaction.intervalMs,
              quietMs: compaction.quietMs,
              dirtyWaitMs: compaction.dirtyWaitMs,
              sliceRows: compaction.sliceRows,
            });
            return async () => {
              stopConsuming();
              await persistor.flush();
            };
          },
        },
        // raw readings past their rules' keep, deleted once rolled up
        jobs: {
          start: () => every(retention.intervalMs, 'retention', runRetention, log, retention.intervalMs),
        },
        api: {
          routes: async (http) => {
            await http.register(readingsRoutes({ engine, storage, catalogMaxLimit: query.catalogMaxLimit }));
            // a new unit or kind may change any answer of the series: drop them all
            await http.register(
              seriesRoutes({
                storage,
                onDescribed: (series) => cache.invalidate([{ series, minTs: -Infinity, maxTs: Infinity }]),
              }),
            );
            await http.register(energyRoutes(energy));
            await http.register(
              retentionRoutes({
                rules: retentionRules,
                save: (rules) => saveRules(store, rules),
                apply: runRetention,
              }),
            );
          },
        },
      },
      close: async () => {
        stopInvalidating();
        await storage.stop();
      },
    };
  },
});

function subscribe(bus: Bus, series: readonly string[], listener: (readings: Reading[]) => void) {
  const wanted = new Set(series);
  return bus.subscribe<ReadingBatch>(READINGS_LIVE_TOPIC, (batch) => {
    const keyWanted = batch.keys.map((k) => wanted.has(k));
    if (!keyWanted.includes(true)) return;
    const readings: Reading[] = [];
    for (let i = 0; i < batch.length; i++) {
      const k = batch.keyIndex[i];
      if (keyWanted[k]) readings.push({ series: batch.keys[k], ts: batch.ts[i], value: batch.value[i] });
    }
    listener(readings);
  });
}

async function* exportRange(
  storage: ReadingsStorage,
  range: { series?: readonly string[]; startMs: number; endMs: number },
): AsyncIterable<ReadingBatch> {
  const { startMs, endMs } = range;
  const known = endMs > startMs ? await storage.series(range.series) : [];
  if (!known.length) return;
  // the batches' keys are indexed by the store's series id: no lookup per row
  let keys = keysById(known);
  const seriesIds = range.series ? known.map((s) => s.id) : undefined;
  // an hour at a time: the engine sorts one slice, not the whole range, before the first row comes out
  for (let from = startMs; from < endMs; from += EXPORT_SLICE_MS) {
    const to = Math.min(endMs, from + EXPORT_SLICE_MS) - 1;
    for await (const chunk of storage.exportSlice({ seriesIds, startMs: from, endMs: to })) {
      const keyIndex = Int32Array.from(chunk.seriesId);
      // a series created while the export runs is not known yet: read the catalog again
      if (keyIndex.some((id) => keys[id] === undefined)) keys = keysById(await storage.series());
      yield { keys, keyIndex, ts: chunk.ts, value: chunk.value, length: chunk.length };
    }
  }
}

function keysById(entries: readonly SeriesEntry[]): string[] {
  const keys: string[] = [];
  for (const e of entries) keys[e.id] = e.key;
  return keys;
}

/** Per series key, the time range a batch touched. */
function touchedRanges(batch: ReadingBatch): TouchedRange[] {
  const ranges = batch.keys.map((series) => ({ series, minTs: Infinity, maxTs: -Infinity }));
  for (let i = 0; i < batch.length; i++) {
    const r = ranges[batch.keyIndex[i]];
    const t = batch.ts[i];
    if (t < r.minTs) r.minTs = t;
    if (t > r.maxTs) r.maxTs = t;
  }
  return ranges.filter((r) => r.minTs <= r.maxTs);
}
