import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { build } from './helpers.js';

/** DuckDB's `memory_limit` as it reports it (`512.0 MiB`, `5.8 GiB`), in bytes. */
function bytesOf(setting: string): number {
  const match = /^([\d.]+) (KiB|MiB|GiB|TiB)$/.exec(setting);
  assert.ok(match, `unexpected memory_limit ${setting}`);
  return Number(match[1]) * 1024 ** (['KiB', 'MiB', 'GiB', 'TiB'].indexOf(match[2]) + 1);
}

async function duckdbSettings(store: { query<T>(sql: string): Promise<T[]> }) {
  const [row] = await store.query<{ memory_limit: string; threads: number }>(
    `SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads') AS threads`,
  );
  return { memoryLimit: row.memory_limit, threads: Number(row.threads) };
}

test('the embedded store gives DuckDB the memory limit and thread count of the settings', async (t) => {
  const { app } = await build(t, { 'store.duckdbMemoryLimit': '512MiB', 'store.duckdbThreads': 3 });
  assert.deepEqual(await duckdbSettings(app.ctx.store), { memoryLimit: '512.0 MiB', threads: 3 });
});

test("unset, DuckDB gets a quarter of the machine's RAM (not its own 80 %) and the machine's parallelism", async (t) => {
  const { app } = await build(t);
  const { memoryLimit, threads } = await duckdbSettings(app.ctx.store);
  const quarter = Math.max(256 * 2 ** 20, os.totalmem() / 4);
  // DuckDB reports the limit rounded to one decimal of its unit
  assert.ok(Math.abs(bytesOf(memoryLimit) - quarter) / quarter < 0.02, `memory_limit ${memoryLimit}`);
  assert.equal(threads, os.availableParallelism());
});
