import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIsoFormatter, parseTimestamp, timestampProblem } from './timestamps.js';

test('ISO 8601 and epoch milliseconds parse to UTC epoch milliseconds', () => {
  const check = (input: unknown, expected: number | null) =>
    assert.equal(parseTimestamp(input), expected ?? NaN, JSON.stringify(input));
  check('2012-04-23T18:25:43.511Z', Date.UTC(2012, 3, 23, 18, 25, 43, 511));
  check('2012-04-23T18:25:43Z', Date.UTC(2012, 3, 23, 18, 25, 43));
  check('2012-04-23T19:25:43+01:00', Date.UTC(2012, 3, 23, 18, 25, 43));
  check('2012-04-23T19:25:43+0100', Date.UTC(2012, 3, 23, 18, 25, 43));
  check('2012-04-23T13:25:43-05', Date.UTC(2012, 3, 23, 18, 25, 43));
  check('2012-04-23 18:25:43', Date.UTC(2012, 3, 23, 18, 25, 43)); // no zone: UTC
  check('2012-04-23T18:25:43.511123456Z', Date.UTC(2012, 3, 23, 18, 25, 43, 511));
  check('2012-04-23T18:25Z', Date.UTC(2012, 3, 23, 18, 25));
  check('2012-04-23', Date.UTC(2012, 3, 23));
  check(1335205543511, 1335205543511);
  check('1335205543511', 1335205543511);
  check(-1335205543511, -1335205543511);
  check(1335205543511.6, 1335205543512);
  check(0, 0); // the same instant in every unit
  check('yesterday', null);
  check('2012-13-01T00:00:00Z', null);
  check('2012-04-23T25:00:00Z', null);
  check('', null);
  check(null, null);
  check(true, null);
  check(Infinity, null);
  check(1e300, null);
});

test('an epoch number is read in the unit its number of digits says, or in the precision given', () => {
  const at = Date.UTC(2024, 5, 1); // 1717200000000
  assert.equal(parseTimestamp(1717200000), at, '10 digits: seconds');
  assert.equal(parseTimestamp('1717200000'), at);
  assert.equal(parseTimestamp(1717200000.25), at + 250);
  assert.equal(parseTimestamp(1717200000000), at, '13 digits: milliseconds');
  assert.equal(parseTimestamp(1717200000000123), at, '16 digits: microseconds');
  assert.equal(parseTimestamp('1717200000000123456'), at, '19 digits: nanoseconds');
  assert.equal(parseTimestamp(32503680000), Date.UTC(3000, 0, 1), '11 digits: seconds');
  for (const ambiguous of [1, 1000, 171720000, 171720000000, 17172000000000, 171720000000000000]) {
    assert.ok(Number.isNaN(parseTimestamp(ambiguous)), String(ambiguous));
    assert.match(timestampProblem(ambiguous), /digits.*precision=s\|ms\|us\|ns/);
  }
  assert.equal(parseTimestamp(1717200000, 'ms'), 1717200000, 'precision says: milliseconds');
  assert.equal(parseTimestamp(1000, 's'), 1_000_000);
  assert.equal(parseTimestamp('1717200000000000', 'us'), at);
  assert.equal(parseTimestamp(1717200000000000000, 'ns'), at);
});

test('dates and times that do not exist are refused, not rolled over', () => {
  for (const [input, why] of [
    ['2024-02-30', /2024-02 has no day 30 \(it has 29 days\)/],
    ['2023-02-29T12:00:00Z', /2023-02 has no day 29 \(it has 28 days\)/],
    ['2024-04-31', /no day 31/],
    ['2024-06-01T24:00:00Z', /hour 24/],
    ['2024-06-01T23:60:00Z', /minute 60/],
    ['2024-06-01T23:59:60Z', /second 60/],
    ['2024-06-01T12:00:00+25:00', /offset/],
    ['2024-00-10', /month 00/],
  ] as const) {
    assert.ok(Number.isNaN(parseTimestamp(input)), input);
    assert.match(timestampProblem(input), why, input);
  }
  assert.equal(parseTimestamp('2024-02-29T23:59:59Z'), Date.UTC(2024, 1, 29, 23, 59, 59));
  assert.equal(parseTimestamp('2000-02-29'), Date.UTC(2000, 1, 29));
  assert.ok(Number.isNaN(parseTimestamp('1900-02-29')));
});

test('the fast ISO formatter writes exactly what toISOString writes', () => {
  const format = createIsoFormatter();
  const samples = [
    0, -1, 1, 86_399_999, 86_400_000, -86_400_000, 951_782_400_000 /* 2000-02-29 */, 1_711_846_800_000,
    253_402_300_799_999 /* 9999-12-31 */, -62_135_596_800_000 /* year 1 */,
  ];
  // and a walk through random times, in and out of order, so cached days are reused and left
  let x = 12345;
  for (let i = 0; i < 20_000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    samples.push(i % 3 ? samples[samples.length - 1] + (x % 5_000_000) : Math.floor((x / 2147483648 - 0.3) * 4e12));
  }
  for (const ts of samples) assert.equal(format(ts), new Date(ts).toISOString(), String(ts));
});
