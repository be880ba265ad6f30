import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignToWindow, bucketStarts, createZonedIsoFormatter, formatTime } from './buckets.js';

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

test('the zoned formatter writes what formatTime writes, across clock changes, odd offsets and long ago', () => {
  const zones = [
    'Europe/London',
    'Asia/Kathmandu', // +05:30 until 1986, then +05:45
    'Australia/Lord_Howe', // a half-hour change
    'America/St_Johns',
    'Europe/Amsterdam', // +00:19:32 local mean time until 1937
    'Pacific/Apia', // skipped 2011-12-30
    'UTC',
    'Etc/GMT+5',
    'UTC+3', // a fixed offset luxon takes, outside the IANA names
  ];
  let x = 987654321;
  const random = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  for (const zone of zones) {
    const format = createZonedIsoFormatter(zone);
    // in order at daily, hourly and odd steps (an answer's points), then at random (one formatter reused)
    const samples: number[] = [];
    for (const step of [86_400_000, 3_600_000, 7 * 60_000 + 13]) {
      const start = Date.UTC(2011, 0, 1) + Math.floor(random() * 3e11);
      for (let i = 0; i < 3_000; i++) samples.push(start + i * step);
    }
    for (let i = 0; i < 3_000; i++) samples.push(Math.floor((random() - 0.45) * 8e12));
    for (const ts of samples) assert.equal(format(ts), formatTime(ts, zone), `${zone} ${ts}`);
    // fractions of a millisecond are cut, as luxon cuts them
    assert.equal(format(1_700_000_000_000.7), formatTime(1_700_000_000_000.7, zone), `${zone} fraction`);
  }
});
