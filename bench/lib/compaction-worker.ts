/**
 * The compaction benchmark's subject, in a process of its own so its RSS is the store's alone:
 * `compaction-worker.ts <data dir> <rows> <sliceRows> <memoryLimit|-> <threads>`. Ingests a day of
 * `rows` readings (1,000 series, then 1 % of them again as late corrections, so the day is dirty),
 * prints `ingested`, waits for a line on stdin, compacts and prints `{"ms":…}`.
 */
import path from 'node:path';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/core/log.js';
import { ReadingBatchBuilder } from '../../src/core/readings.js';
import { loadMigrations, openStore } from '../../src/core/store/index.js';
import { openEngine } from '../../src/modules/readings/engines/index.js';
import { createReadingsMetrics } from '../../src/modules/readings/metrics.js';

const [dataDir, rowsArg, sliceRowsArg, memoryLimitArg, threadsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const SERIES = 1000;
const BATCH = 200_000;
const DAY = Date.UTC(2024, 0, 1);
const perSeries = Math.ceil(rows / SERIES);
const stepMs = Math.floor(86_400_000 / perSeries);

const store = await openStore({
  dataDir,
  poolSize: 2,
  duckdbMemoryLimit: memoryLimitArg === '-' ? undefined : memoryLimitArg,
  duckdbThreads: Number(threadsArg),
});
const migrations = path.resolve(import.meta.dirname, '../../src/modules/readings/migrations');
await store.migrate('readings', loadMigrations(migrations, store.kind));
const storage = await openEngine(store, { catalogSaveMs: 3_600_000 });
storage.startBackground({
  log: createLogger('silent'),
  metrics: createReadingsMetrics(new Registry()),
  intervalMs: 3_600_000,
  quietMs: 0,
  dirtyWaitMs: 0,
  sliceRows: Number(sliceRowsArg),
});

const keys = Array.from({ length: SERIES }, (_, s) => `bench/compaction/${s}`);
const builder = new ReadingBatchBuilder(BATCH);
const ids = new Map<number, number>();
async function add(s: number, ts: number, value: number) {
  if (builder.full) {
    const batch = builder.take();
    await storage.write([batch], batch.length);
    ids.clear();
  }
  let id = ids.get(s);
  if (id === undefined) ids.set(s, (id = builder.addKey(keys[s])));
  builder.push(id, ts, value);
}
for (let i = 0; i < perSeries; i++) for (let s = 0; s < SERIES; s++) await add(s, DAY + i * stepMs, i);
// late corrections of 1 % of the day: duplicates of (series, ts), so the day must be deduplicated
for (let i = 0; i < perSeries; i += 100) for (let s = 0; s < SERIES; s++) await add(s, DAY + i * stepMs, -i);
const last = builder.take();
await storage.write([last], last.length);

process.stdout.write('ingested\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const started = performance.now();
await storage.compactNow();
const ms = performance.now() - started;
await storage.stop();
await store.close();
process.stdout.write(`${JSON.stringify({ ms })}\n`);
process.exit(0);
