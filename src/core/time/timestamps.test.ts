import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIsoFormatter, parseTimestamp } from './timestamps.js';

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
  check(-1000, -1000);
  check(1.6, 2);
  check('yesterday', null);
  check('2012-13-01T00:00:00Z', null);
  check('2012-04-23T25:00:00Z', null);
  check('', null);
  check(null, null);
  check(true, null);
  check(Infinity, null);
  check(1e300, null);
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
