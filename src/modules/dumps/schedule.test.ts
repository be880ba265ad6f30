import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayRange, daysDue, nextRunAt } from './schedule.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

test('a local day is 23 hours when the clocks go forward, 25 when they go back, 24 in UTC', () => {
  const hours = (day: string, zone: string) => {
    const r = dayRange(day, zone);
    return (r.endMs - r.startMs) / 3_600_000;
  };
  assert.equal(hours('2026-03-29', 'Europe/London'), 23);
  assert.equal(hours('2026-10-25', 'Europe/London'), 25);
  assert.equal(hours('2026-03-29', 'UTC'), 24);
  // a London summer day starts at 23:00 UTC the evening before
  assert.equal(iso(dayRange('2026-07-01', 'Europe/London').startMs), '2026-06-30T23:00:00.000Z');
});

test('the next run is the next time the hour strikes in the zone', () => {
  assert.equal(iso(nextRunAt(at('2026-07-01T00:30:00Z'), 1, 'UTC')), '2026-07-01T01:00:00.000Z');
  assert.equal(iso(nextRunAt(at('2026-07-01T01:00:00Z'), 1, 'UTC')), '2026-07-02T01:00:00.000Z');
  // 01:00 in London summer time is 00:00 UTC
  assert.equal(iso(nextRunAt(at('2026-06-30T23:30:00Z'), 1, 'Europe/London')), '2026-07-01T00:00:00.000Z');
  // 01:00 does not exist on 29 March 2026 in London (01:00 GMT → 02:00 BST): the run is at the first time after
  assert.equal(iso(nextRunAt(at('2026-03-29T00:30:00Z'), 1, 'Europe/London')), '2026-03-29T01:00:00.000Z');
  // 01:00 happens twice on 25 October: the first one
  assert.equal(iso(nextRunAt(at('2026-10-24T23:30:00Z'), 1, 'Europe/London')), '2026-10-25T00:00:00.000Z');
});

test('the days owed run from the one after the last dump to yesterday, once the hour has come', () => {
  const zone = 'Europe/London';
  // 10:00 on 5 July: yesterday (4 July) is owed
  assert.deepEqual(daysDue('2026-07-01', at('2026-07-05T09:00:00Z'), 1, zone, 31), [
    '2026-07-02',
    '2026-07-03',
    '2026-07-04',
  ]);
  // 00:30 local on 5 July, before the 01:00 run: 4 July is not owed yet
  assert.deepEqual(daysDue('2026-07-01', at('2026-07-04T23:30:00Z'), 1, zone, 31), ['2026-07-02', '2026-07-03']);
  assert.deepEqual(daysDue('2026-07-04', at('2026-07-05T09:00:00Z'), 1, zone, 31), []);
  // a long stop: only the latest catchUp days
  assert.deepEqual(daysDue('2026-06-01', at('2026-07-05T09:00:00Z'), 1, zone, 2), ['2026-07-03', '2026-07-04']);
  // nothing dumped yet: only yesterday
  assert.deepEqual(daysDue(undefined, at('2026-07-05T09:00:00Z'), 1, zone, 31), ['2026-07-04']);
  // in UTC the day changes an hour later than in London summer time
  assert.deepEqual(daysDue(undefined, at('2026-07-04T23:30:00Z'), 0, 'UTC', 31), ['2026-07-03']);
});
