import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTimestamp } from './timestamps.js';

test('ISO 8601 and epoch milliseconds parse to UTC epoch milliseconds', () => {
  const check = (input: unknown, expected: number | null) => assert.equal(parseTimestamp(input), expected ?? NaN, JSON.stringify(input));
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
