import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { ReadingBatch } from '../src/core/readings.js';
import { loadMigrations, openStore } from '../src/core/store/index.js';
import { openEngine } from '../src/modules/readings/engines/index.js';
import { batchOf } from '../src/modules/readings/test-engine.js';
import { dropSchema, uniqueSchema } from './helpers.js';
import { needService, services } from './services.js';

const T = Date.UTC(2024, 5, 1);

test('two persistors committing conflicting values for the same key in either order end with the newest message’s', async (t) => {
  if (!(await needService(t, 'postgres'))) return;
  const schema = uniqueSchema('wattline_order');
  t.after(() => dropSchema(schema));
  // two processes' engines on one schema, as two persistors on NATS
  const open = async () => {
    const store = await openStore({ dataDir: '', databaseUrl: services.postgres.url, poolSize: 2, schema });
    await store.migrate('readings', loadMigrations(path.join('src', 'modules', 'readings', 'migrations'), store.kind));
    const storage = await openEngine(store, { catalogSaveMs: 3_600_000 });
    t.after(async () => {
      await storage.stop();
      await store.close();
    });
    return storage;
  };
  const [a, b] = [await open(), await open()];
  const carried = (order: number, values: [string, number, number][]): ReadingBatch =>
    Object.assign(batchOf(values.map(([series, ts, value]) => ({ series, ts, value }))), { order });
  const value = async (series: string, ts: number) => {
    const [entry] = await a.series([series]);
    const rows = await a.raw({ seriesIds: [entry.id], startMs: ts, endMs: ts, limit: 10 });
    return rows.length ? rows.value[0] : undefined;
  };

  // the newer message (order 200) commits first, the older one (order 100) after it: the newer stays
  await a.write([carried(200, [['m', T, 2]])], 1);
  await b.write([carried(100, [['m', T, 1]])], 1);
  assert.equal(await value('m', T), 2);
  // in the usual order the newer replaces the older
  await b.write([carried(300, [['m', T, 3]])], 1);
  assert.equal(await value('m', T), 3);
  // within one commit, the later message wins whatever its place in the commit
  await a.write([carried(500, [['n', T, 5]]), carried(400, [['n', T, 4]])], 2);
  assert.equal(await value('n', T), 5);
  // and the catalog's last value is the one stored, not the refused one
  await b.write([carried(250, [['m', T, 99]])], 1);
  const [m] = await a.series(['m']);
  assert.equal(m.lastValue, 3);
  assert.equal(m.count, 1);
});
