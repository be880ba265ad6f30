import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { createLogger } from '../../core/log.js';
import { Registry } from 'prom-client';
import { createReadingsMetrics } from './metrics.js';
import { ReadingBatchBuilder, type Reading, type ReadingBatch } from '../../core/readings.js';
import { loadMigrations, openStore, type Store } from '../../core/store/index.js';
import { openEngine } from './engines/index.js';
import type { ReadingsStorage } from './storage.js';

const migrationsDir = path.join(import.meta.dirname, 'migrations');

/** For the module's unit tests: a reading batch of `readings`, keys in order of appearance. */
export function batchOf(readings: readonly Reading[]): ReadingBatch {
  const builder = new ReadingBatchBuilder(readings.length);
  for (const r of readings) builder.add(r);
  return builder.take();
}

/**
 * For the module's unit tests: the readings engine on a fresh embedded store in a temp directory,
 * removed when the test ends. `restart` reopens the same directory: `'clean'` stops the engine first
 * (catalog saved), `'killed'` only closes the store, as a process killed after its last commit.
 */
export async function openTestEngine(t: TestContext, options: { catalogSaveMs?: number; sliceRows?: number } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-readings-'));
  const log = createLogger('silent');
  const metrics = createReadingsMetrics(new Registry());
  let store: Store | undefined;
  let storage: ReadingsStorage | undefined;

  async function open() {
    store = await openStore({ dataDir: dir, poolSize: 2 });
    await store.migrate('readings', loadMigrations(migrationsDir, store.kind));
    storage = await openEngine(store, { catalogSaveMs: options.catalogSaveMs ?? 3_600_000 });
    // the compactor runs only when asked (compactNow)
    storage.startBackground({
      log,
      metrics,
      intervalMs: 3_600_000,
      quietMs: 0,
      dirtyWaitMs: 0,
      sliceRows: options.sliceRows ?? 5_000_000,
    });
  }

  async function close(how: 'clean' | 'killed') {
    if (how === 'clean') await storage?.stop();
    await store?.close();
    store = undefined;
  }

  await open();
  t.after(async () => {
    await close('clean');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    log,
    metrics,
    get storage(): ReadingsStorage {
      return storage!;
    },
    /** The store underneath, to look at the tables themselves. */
    get store(): Store {
      return store!;
    },
    async restart(how: 'clean' | 'killed') {
      await close(how);
      await open();
    },
  };
}
