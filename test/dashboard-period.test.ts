import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTime } from 'luxon';
import { enclosing, resolvePeriod, shiftPeriod } from '../web/period.js';

const ZONE = 'Europe/London';
// a Sunday afternoon in summer time
const NOW = DateTime.fromISO('2024-06-02T13:30:00Z');

test('period: calendar days, weeks from Monday, months and years in the zone, with their bars', () => {
  const spring = resolvePeriod('day:2024-03-31', ZONE, NOW);
  assert.equal(spring.start.toISO(), '2024-03-31T00:00:00.000+00:00');
  assert.equal(spring.end.toISO(), '2024-04-01T00:00:00.000+01:00');
  assert.equal(spring.end.diff(spring.start, 'hours').hours, 23, 'the day the clocks go forward');
  assert.equal(spring.window, '30m');

  const week = resolvePeriod('this-week', ZONE, NOW);
  assert.equal(week.start.toISO(), '2024-05-27T00:00:00.000+01:00');
  assert.equal(week.label, 'Week of 27 May 2024');
  assert.equal(week.window, '1d');
  assert.equal(resolvePeriod('today', ZONE, NOW).label, 'Sun 2 Jun 2024');
  assert.equal(resolvePeriod('yesterday', ZONE, NOW).label, 'Sat 1 Jun 2024');
  assert.equal(resolvePeriod('this-month', ZONE, NOW).window, '1d');
  assert.equal(resolvePeriod('year:2024', ZONE, NOW).window, 'month');
});

test('period: previous and next move by the unit, or by the length of a range', () => {
  assert.equal(shiftPeriod(resolvePeriod('today', ZONE, NOW), -1), 'day:2024-06-01');
  assert.equal(shiftPeriod(resolvePeriod('day:2024-03-31', ZONE, NOW), 1), 'day:2024-04-01');
  assert.equal(shiftPeriod(resolvePeriod('this-week', ZONE, NOW), -1), 'week:2024-05-20');
  assert.equal(shiftPeriod(resolvePeriod('month:2024-01', ZONE, NOW), -1), 'month:2023-12');
  assert.equal(shiftPeriod(resolvePeriod('this-year', ZONE, NOW), 1), 'year:2025');
  const last = resolvePeriod('last-24h', ZONE, NOW);
  assert.equal(last.end.toMillis(), NOW.toMillis());
  const before = shiftPeriod(last, -1);
  assert.equal(before, 'range:2024-05-31T14:30/2024-06-01T14:30');
  const shifted = resolvePeriod(before, ZONE, NOW);
  assert.equal(shifted.end.toMillis(), last.start.toMillis());
  assert.equal(resolvePeriod('range:2024-06-01T00:00/2024-06-08T00:00', ZONE, NOW).window, '1d');
});

test('period: a spec that names no period is refused in words', () => {
  for (const spec of ['day:2024-02-30', 'fortnight', 'range:2024-06-02T00:00/2024-06-01T00:00', 'week:'])
    assert.throws(() => resolvePeriod(spec, ZONE, NOW), new RegExp(`"${spec}" is not a period`));
});

test('period: the day, week, month and year around a moment (the totals strip)', () => {
  const around = enclosing(DateTime.fromISO('2024-06-01T00:30:00+01:00', { zone: ZONE }));
  assert.deepEqual(
    around.map((p) => p.spec),
    ['day:2024-06-01', 'week:2024-05-27', 'month:2024-06', 'year:2024'],
  );
});
