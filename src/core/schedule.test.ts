import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './log.js';
import { every } from './schedule.js';

test('a schedule longer than setTimeout’s 24.8 days waits the whole interval instead of running back to back', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const DAY = 86_400_000;
  let runs = 0;
  const stop = every(30 * DAY, 'a monthly job', async () => void runs++, createLogger('silent'), 0);
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  await settle();
  assert.equal(runs, 1, 'runs at once');
  for (const step of [1, 1000, 10 * DAY, 15 * DAY]) {
    t.mock.timers.tick(step);
    await settle();
  }
  assert.equal(runs, 1, 'not again within the 30 days (setTimeout would have clamped 30 days to 1 ms)');
  t.mock.timers.tick(6 * DAY);
  await settle();
  assert.equal(runs, 2, 'again after the 30 days');
  await stop();
});
