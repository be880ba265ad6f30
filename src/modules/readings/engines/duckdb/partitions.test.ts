import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PartitionTracker } from './partitions.js';

const DAY = 86_400_000;
const today = 20_000; // a UTC day number
const at = (ms: number) => today * DAY + ms;
const QUIET = 10_000;
const DIRTY_WAIT = 60_000;

test('a dirty day still being written waits for its rewrite; quiet, or waiting long enough, makes it due', () => {
  const p = new PartitionTracker();
  // a late reading makes the day dirty at 0 s; writes go on every second
  p.markWritten(today, 'dirty', at(0));
  for (let s = 1; s <= 59; s++) p.markWritten(today, 'dirty', at(s * 1000));
  assert.deepEqual(
    p.dueForCompaction(at(59_500), QUIET, DIRTY_WAIT),
    [],
    'written half a second ago, dirty for 59.5 s',
  );
  assert.deepEqual(p.dueForCompaction(at(60_000), QUIET, DIRTY_WAIT), [today], 'dirty for a minute: rewritten anyway');
  // a rewrite that started at version v, with a write landing meanwhile: still dirty, the wait starts again
  const version = p.version(today);
  p.markWritten(today, 'dirty', at(61_000));
  p.markSorted(today, version, at(62_000));
  assert.equal(p.get(today), 'dirty');
  assert.deepEqual(p.dueForCompaction(at(63_000), QUIET, DIRTY_WAIT), []);
  assert.deepEqual(p.dueForCompaction(at(61_000 + QUIET), QUIET, DIRTY_WAIT), [today], 'no write for quietMs');
  assert.deepEqual(p.dueForCompaction(at(63_000), 0, DIRTY_WAIT), [today], 'quietMs 0: at once, as before');
});

test('a rewrite with no write meanwhile leaves the day sorted and no longer due', () => {
  const p = new PartitionTracker();
  p.markWritten(today, 'dirty', at(0));
  const version = p.version(today);
  p.markSorted(today, version, at(1_000));
  assert.equal(p.get(today), 'sorted');
  assert.deepEqual(p.dueForCompaction(at(500_000), QUIET, DIRTY_WAIT), []);
});

test('a day that keeps turning dirty while written waits twice as long after each rewrite, and at once when quiet', () => {
  const p = new PartitionTracker();
  let now = 0;
  const rewritten: number[] = [];
  // a write every second, out of order each time (overlapping clients); the compactor looks every second
  for (let s = 0; s < 8 * 3600; s++) {
    now = at(s * 1000);
    p.markWritten(today, 'dirty', now);
    if (p.dueForCompaction(now, QUIET, DIRTY_WAIT).includes(today)) {
      rewritten.push(s);
      p.markSorted(today, p.version(today), now);
    }
  }
  // the first after a minute, then 2, 4, 8 … minutes from the next write that dirties it again
  assert.equal(rewritten[0], 60);
  assert.deepEqual(
    rewritten.slice(1).map((s, i) => s - rewritten[i]),
    [121, 241, 481, 961, 1921, 3841, 7681].slice(0, rewritten.length - 1),
  );
  assert.ok(rewritten.length <= 9, `${rewritten.length} rewrites`);
  // writes stop: once quiet it is rewritten whatever the wait
  assert.deepEqual(p.dueForCompaction(now + QUIET, QUIET, DIRTY_WAIT), [today]);
});
