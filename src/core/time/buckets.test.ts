import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignToWindow, bucketStarts, formatTime } from './buckets.js';

const H = 3_600_000;

test('buckets are epoch-aligned like time_bucket, before 1970 too', () => {
  assert.equal(alignToWindow(Date.UTC(2024, 0, 1, 10, 37), H), Date.UTC(2024, 0, 1, 10));
  assert.equal(alignToWindow(-1, H), -H);
  assert.equal(alignToWindow(0, H), 0);
});

test('local days in Europe/London are 23 and 25 hours long at the clock changes', () => {
  const days = bucketStarts(
    Date.parse('2024-03-30T12:00:00Z'),
    Date.parse('2024-04-01T12:00:00Z'),
    '1d',
    'Europe/London',
  );
  assert.deepEqual(
    days.map((d) => new Date(d).toISOString()),
    ['2024-03-30T00:00:00.000Z', '2024-03-31T00:00:00.000Z', '2024-03-31T23:00:00.000Z'],
  );
  assert.equal(days[2] - days[1], 23 * H);
  const autumn = bucketStarts(
    Date.parse('2024-10-27T00:30:00+01:00'),
    Date.parse('2024-10-28T00:30:00Z'),
    '1d',
    'Europe/London',
  );
  assert.equal(autumn[1] - autumn[0], 25 * H);
});

test('times are shown in UTC, or with the zone offset when a zone is asked for', () => {
  assert.equal(formatTime(Date.UTC(2024, 5, 1)), '2024-06-01T00:00:00.000Z');
  assert.equal(formatTime(Date.UTC(2024, 5, 1), 'Europe/London'), '2024-06-01T01:00:00.000+01:00');
});
