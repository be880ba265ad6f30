import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Reading } from '../../../../core/readings.js';
import type { ReadingsStorage } from '../../storage.js';
import { batchOf, openTestEngine } from '../../test-engine.js';

const T0 = Date.UTC(2024, 0, 1);
const M = 60_000;

async function write(storage: ReadingsStorage, readings: Reading[]) {
  await storage.write([batchOf(readings)], readings.length);
}

/** What the catalog tells of each series: count, first and last time, last value. */
async function stats(storage: ReadingsStorage) {
  return (await storage.series()).map((s) => ({
    key: s.key,
    count: s.count,
    firstTs: s.firstTs,
    lastTs: s.lastTs,
    lastValue: s.lastValue,
  }));
}

test('the catalog counts each series and knows its first and last time and last value', async (t) => {
  const { storage } = await openTestEngine(t);
  await write(storage, [
    { series: 'b', ts: T0 + M, value: 2 },
    { series: 'a', ts: T0 + M, value: 11 },
    { series: 'a', ts: T0, value: 10 },
  ]);
  await write(storage, [
    { series: 'a', ts: T0 + 2 * M, value: 12 },
    { series: 'a', ts: T0 - M, value: 9 }, // late: an earlier first time, not the last value
  ]);
  assert.deepEqual(await stats(storage), [
    { key: 'a', count: 4, firstTs: T0 - M, lastTs: T0 + 2 * M, lastValue: 12 },
    { key: 'b', count: 1, firstTs: T0 + M, lastTs: T0 + M, lastValue: 2 },
  ]);
  assert.deepEqual(
    (await storage.series(['b', 'nothing'])).map((s) => s.key),
    ['b'],
  );
});

test('a correction of the last reading becomes the last value, and once compacted the replaced reading no longer counts', async (t) => {
  const { storage } = await openTestEngine(t);
  await write(storage, [
    { series: 'a', ts: T0, value: 1 },
    { series: 'a', ts: T0 + M, value: 2 },
  ]);
  await write(storage, [{ series: 'a', ts: T0 + M, value: 20 }]);
  // counts are of rows appended until the compactor has removed the replaced one
  assert.deepEqual(await stats(storage), [{ key: 'a', count: 3, firstTs: T0, lastTs: T0 + M, lastValue: 20 }]);
  await storage.compactNow();
  assert.deepEqual(await stats(storage), [{ key: 'a', count: 2, firstTs: T0, lastTs: T0 + M, lastValue: 20 }]);
  // and the same within one commit: the later row of the batch wins
  await write(storage, [
    { series: 'a', ts: T0 + 2 * M, value: 3 },
    { series: 'a', ts: T0 + 2 * M, value: 30 },
  ]);
  await storage.compactNow();
  assert.deepEqual(await stats(storage), [{ key: 'a', count: 3, firstTs: T0, lastTs: T0 + 2 * M, lastValue: 30 }]);
});

test('after a restart the catalog is as before, whether it was saved at a clean stop or the process was killed after its last commit', async (t) => {
  const engine = await openTestEngine(t, { catalogSaveMs: 3_600_000 }); // never saved by a commit here
  await write(engine.storage, [
    { series: 'a', ts: T0, value: 1 },
    { series: 'b', ts: T0, value: 5 },
  ]);
  await write(engine.storage, [{ series: 'a', ts: T0, value: 2 }]); // a correction
  await engine.storage.compactNow(); // saves the catalog with the compaction
  await write(engine.storage, [
    { series: 'a', ts: T0 + M, value: 3 },
    { series: 'c', ts: T0 - M, value: 7 },
  ]);
  const before = await stats(engine.storage);
  assert.deepEqual(before, [
    { key: 'a', count: 2, firstTs: T0, lastTs: T0 + M, lastValue: 3 },
    { key: 'b', count: 1, firstTs: T0, lastTs: T0, lastValue: 5 },
    { key: 'c', count: 1, firstTs: T0 - M, lastTs: T0 - M, lastValue: 7 },
  ]);

  await engine.restart('killed'); // the last commit's stats were never saved: folded in at start
  assert.deepEqual(await stats(engine.storage), before);
  await write(engine.storage, [{ series: 'c', ts: T0, value: 8 }]);
  await engine.restart('clean');
  assert.deepEqual(await stats(engine.storage), [
    ...before.slice(0, 2),
    { key: 'c', count: 2, firstTs: T0 - M, lastTs: T0, lastValue: 8 },
  ]);
});
