import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Reading } from '../src/core/readings.js';
import { build } from './helpers.js';

test('a subscriber gets the readings of its series as they are committed, and no others', async (t) => {
  const w = await build(t);
  const got: Reading[] = [];
  const stop = w.app.readings.subscribe(['meter/a', 'meter/c'], (readings) => got.push(...readings));
  await w.ingest([
    { series: 'meter/a', value: 1, ts: 1_717_200_001_000 },
    { series: 'meter/b', value: 2, ts: 1_717_200_001_000 },
    { series: 'meter/c', value: 3, ts: 1_717_200_002_000 },
  ]);
  // the in-process bus delivers before the ingest is answered
  assert.deepEqual(got, [
    { series: 'meter/a', ts: 1_717_200_001_000, value: 1 },
    { series: 'meter/c', ts: 1_717_200_002_000, value: 3 },
  ]);
  stop();
  await w.ingest([{ series: 'meter/a', value: 4, ts: 1_717_200_003_000 }]);
  assert.equal(got.length, 2, 'nothing after unsubscribing');
});
