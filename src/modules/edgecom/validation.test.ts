import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInput } from '../../core/errors.js';
import { validateTimeSeriesRequest, type TimeSeriesRequest } from './validation.js';

const DAY_S = 86_400;
const T0 = Date.UTC(2024, 0, 1) / 1000;
const at = (seconds: number, nanos = 0) => ({ seconds, nanos });
const ok: TimeSeriesRequest = { start: at(T0), end: at(T0 + DAY_S), window: '1h', aggregation: 'AVG' };

/** `expected` is the error message, or the query the request becomes. */
function check(overrides: Partial<TimeSeriesRequest>, expected: string | object) {
  const request = { ...ok, ...overrides };
  if (typeof expected === 'string') {
    assert.throws(
      () => validateTimeSeriesRequest(request),
      (err: Error) => err instanceof InvalidInput && err.message === expected,
      `${JSON.stringify(request)} → ${expected}`,
    );
  } else {
    assert.deepEqual(validateTimeSeriesRequest(request), expected);
  }
}

test('requests are checked in edgecom order, each with its exact message', () => {
  check({ start: null }, 'missing timestamp');
  check({ end: null }, 'missing timestamp');
  check({ start: at(0) }, 'missing timestamp');
  check({ end: at(0) }, 'missing timestamp');
  check({ start: null, end: at(T0 - 1), window: 'x', aggregation: 'x' }, 'missing timestamp');
  check({ start: at(T0 + 1), end: at(T0) }, 'start time must be before end time');
  check({ start: at(T0, 2), end: at(T0, 1) }, 'start time must be before end time');
  check({ start: at(T0 + 1), end: at(T0), window: 'x', aggregation: '' }, 'start time must be before end time');
  check({ end: at(T0 + 730 * DAY_S, 1) }, 'time range exceeds maximum allowed');
  check({ end: at(T0 + 731 * DAY_S), window: 'x' }, 'time range exceeds maximum allowed');
  check({ window: '' }, 'invalid window: ');
  check({ window: '15m' }, 'invalid window: 15m');
  check({ window: '1H', aggregation: 'x' }, 'invalid window: 1H');
  check({ aggregation: '' }, 'invalid aggregation');
  check({ aggregation: 'avg' }, 'invalid aggregation: avg');
  check({ aggregation: 'COUNT' }, 'invalid aggregation: COUNT');
  check({ aggregation: 'toString' }, 'invalid aggregation: toString');
  check({ window: 'w'.repeat(100) }, `invalid window: ${'w'.repeat(64)}…`);
});

test('a timestamp a Timestamp cannot hold is refused after the edgecom checks', () => {
  check(
    { start: at(-62_135_596_801), end: at(-62_135_596_800 + DAY_S) },
    'invalid timestamp: start must be from 0001-01-01 to 9999-12-31 UTC with nanos 0 to 999999999',
  );
  check(
    { start: at(253_402_300_800), end: at(253_402_300_800) },
    'invalid timestamp: start must be from 0001-01-01 to 9999-12-31 UTC with nanos 0 to 999999999',
  );
  check(
    { end: at(T0 + DAY_S, 1_000_000_000) },
    'invalid timestamp: end must be from 0001-01-01 to 9999-12-31 UTC with nanos 0 to 999999999',
  );
});

test('a valid request becomes an inclusive millisecond range with a lower-case aggregation', () => {
  check({}, { startMs: T0 * 1000, endMs: (T0 + DAY_S) * 1000, window: '1h', agg: 'avg' });
  // equal start and end, the longest range, every window and aggregation
  check(
    { end: at(T0), window: '1m', aggregation: 'MIN' },
    { startMs: T0 * 1000, endMs: T0 * 1000, window: '1m', agg: 'min' },
  );
  check(
    { end: at(T0 + 730 * DAY_S), window: '1d', aggregation: 'SUM' },
    { startMs: T0 * 1000, endMs: (T0 + 730 * DAY_S) * 1000, window: '1d', agg: 'sum' },
  );
  check(
    { window: '5m', aggregation: 'MAX' },
    { startMs: T0 * 1000, endMs: (T0 + DAY_S) * 1000, window: '5m', agg: 'max' },
  );
  // before 1970 is a time like any other
  check({ start: at(-DAY_S), end: at(-1) }, { startMs: -DAY_S * 1000, endMs: -1000, window: '1h', agg: 'avg' });
  // sub-millisecond bounds round inwards: nothing outside the asked range is included
  check(
    { start: at(T0, 1), end: at(T0 + 1, 999_999) },
    { startMs: T0 * 1000 + 1, endMs: (T0 + 1) * 1000, window: '1h', agg: 'avg' },
  );
});
